"""Golub et al. (1999) leukemia analysis: data, preprocessing, selection, models."""

__version__ = "0.1.0"
