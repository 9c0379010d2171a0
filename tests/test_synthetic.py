"""leukemia.synthetic: seeded, float32, the shape and labels asked for, informative where promised."""

from __future__ import annotations

import numpy as np
import pytest

from leukemia.preprocessing import DudoitFilter
from leukemia.select import signal_to_noise
from leukemia.synthetic import make_expression


def test_shape_dtype_labels_and_no_copy() -> None:
    X, y = make_expression(500, 90, n_informative=10)
    assert X.shape == (90, 500) and (X.dtypes == np.float32).all()
    assert (X.to_numpy() > 0).all(), "intensities are positive"
    assert y.index.equals(X.index) and set(y) == {"ALL", "AML"}
    assert (y == "AML").sum() == round(90 * 25 / 72)
    assert np.shares_memory(X.to_numpy(), X.to_numpy()), "one float32 block, no copy on access"


def test_seeded() -> None:
    first, second, other = (
        make_expression(50, 20),
        make_expression(50, 20),
        make_expression(50, 20, random_state=1),
    )
    assert first[0].equals(second[0]) and first[1].equals(second[1])
    assert not first[0].equals(other[0])


def test_the_informative_genes_are_the_ones_that_separate_the_classes() -> None:
    X, y = make_expression(2000, 200, n_informative=20)
    scores = np.abs(signal_to_noise(np.log(X.to_numpy()), y.to_numpy())[0])
    assert set(np.argsort(-scores)[:20]) == set(range(20))


def test_float32_stays_float32_through_dudoit_and_scoring() -> None:
    X, y = make_expression(3000, 60)
    values = X.to_numpy()
    kept = DudoitFilter().fit_transform(values)
    assert kept.dtype == np.float32 and 0 < kept.shape[1] < 3000
    assert np.array_equal(
        DudoitFilter().fit(values).support_, DudoitFilter().fit(values.astype(float)).support_
    )
    assert signal_to_noise(kept, y.to_numpy())[0].dtype == np.float32


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 10), "at least 1 gene and 2 samples"),
        ((10, 1), "at least 1 gene"),
        ((10, 10, 11), "n_informative"),
    ],
)
def test_bad_sizes_are_refused(args: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_expression(*args)


@pytest.mark.parametrize("n_classes", [2, 18])
def test_a_study_written_as_users_bring_it_loads_with_its_classes(tmp_path, n_classes: int) -> None:
    from leukemia.spec import load_dataset
    from leukemia.synthetic import make_study, write_study

    X, y = make_study(300, 540, n_classes, n_informative=36)
    counts = y.value_counts()
    assert len(counts) == n_classes and counts.sum() == 540
    if n_classes > 2:
        assert counts.max() == pytest.approx(2 * counts.min(), abs=2), "the largest class twice the smallest"
    scores = np.abs(signal_to_noise(X.to_numpy(), (y == y.iloc[0]).to_numpy())[0])
    first = sorted(counts.index).index(y.iloc[0])  # one class against the rest: its own genes (all, if K = 2)
    informative = [j for j in range(36) if n_classes == 2 or j % n_classes == first]
    assert set(np.argsort(-scores)[: len(informative)]) == set(informative)
    data = load_dataset(write_study(tmp_path, X, y))
    assert data.classes == tuple(sorted(counts.index)) and data.scale_detected == "log2"
    assert len(data.y_train) + len(data.y_test) == 540
    assert np.allclose(data.X_train.to_numpy(), X.loc[data.X_train.index].to_numpy(), atol=5e-5)
