"""BiasedMF and its solvers: the batched ridge solves against one numpy solve per row, the fit
against plain ALS written out, and a planted low-rank matrix recovered."""

from __future__ import annotations

import numpy as np
import pytest

from models_py.recommenders import BiasedMF, Ratings, matrix_factorization
from models_py.recommenders.baselines import fit_biases
from models_py.recommenders.matrix_factorization import RowGroups, ridge_rows, solve_packed
from tests.dense_refs import N_ITEMS, N_USERS, all_pairs, predict_all, small_matrix

# Double precision must match one solve per row to rounding; the single precision the fit uses
# (normal matrices summed in float32) to float32's rounding of a few terms, far below any model
# difference; a wrong formula is off by O(1) in both.
PRECISIONS = [(np.float64, 1e-12), (np.float32, 1e-5)]


@pytest.mark.parametrize(("dtype", "tol"), PRECISIONS)
def test_ridge_rows_equals_one_solve_per_row(
    monkeypatch: pytest.MonkeyPatch, dtype: type, tol: float
) -> None:
    monkeypatch.setattr(matrix_factorization, "CHUNK_ROWS", 4)  # many chunks of rows
    monkeypatch.setattr(matrix_factorization, "NORMAL_DTYPE", dtype)
    ratings, _ = small_matrix(8)
    csr = ratings.to_csr()
    rng = np.random.default_rng(0)
    features, target = rng.normal(size=(N_ITEMS, 4)), rng.normal(size=csr.nnz)
    penalty = np.array([0.5, 1.0, 2.0, 3.0])
    got = ridge_rows(csr.indptr, csr.indices, target, features, penalty)
    for r in range(N_USERS):
        lo, hi = csr.indptr[r], csr.indptr[r + 1]
        y = features[csr.indices[lo:hi]]
        want = np.linalg.solve(y.T @ y + np.diag(penalty), y.T @ target[lo:hi])
        np.testing.assert_allclose(got[r], want, rtol=tol, atol=tol)


@pytest.mark.parametrize("f", [1, 2, 9, 17])
def test_solve_packed_equals_numpy_solve(f: int) -> None:
    rng = np.random.default_rng(f)
    y = rng.normal(size=(50, 3, f))
    a = np.einsum("nri,nrj->nij", y, y) + np.diag(rng.uniform(0.1, 3.0, f))  # some rank < f
    b = rng.normal(size=(50, f))
    i, j = np.triu_indices(f)
    want = np.linalg.solve(a, b[:, :, None])[:, :, 0]
    got = solve_packed(a[:, i, j].T.copy(), b.T.copy()).T  # copies: it works in place
    np.testing.assert_allclose(got, want, atol=1e-10)
    singular = np.zeros((i.size, 1))  # no ratings and no penalty: nothing to solve
    with pytest.raises(np.linalg.LinAlgError):
        solve_packed(singular, np.zeros((f, 1)))


@pytest.mark.parametrize(("dtype", "tol"), PRECISIONS)
def test_ridge_objective_is_the_minimised_loss(
    monkeypatch: pytest.MonkeyPatch, dtype: type, tol: float
) -> None:
    monkeypatch.setattr(matrix_factorization, "NORMAL_DTYPE", dtype)
    ratings, _ = small_matrix(4)
    csr = ratings.to_csr()
    rng = np.random.default_rng(1)
    features, target = rng.normal(size=(N_ITEMS, 3)), rng.normal(size=csr.nnz)
    penalty = np.array([0.5, 2.0, 1.0])
    x, objective = RowGroups.of(csr.indptr, csr.indices, N_ITEMS).ridge(target, features, penalty)
    rows = np.repeat(np.arange(N_USERS), np.diff(csr.indptr))
    resid = target - np.einsum("kf,kf->k", features[csr.indices], x[rows])
    assert objective == pytest.approx(resid @ resid + np.sum(penalty * x**2), rel=tol)


def reference_als(ratings: Ratings, model: BiasedMF) -> tuple[list[np.ndarray], int, float]:
    """BiasedMF's fit written plainly: one np.linalg.solve per user or song, the penalised loss
    recomputed from scratch after every half-step. Returns ([p, q, b_u, b_i], sweeps, loss)."""
    k, reg, mu = model.n_factors, model.reg, ratings.rating.mean()
    b_u, b_i = fit_biases(ratings, mu, model.reg_user_bias, model.reg_item_bias, 5)
    p = np.zeros((ratings.n_users, k))
    q = np.random.default_rng(model.random_state).normal(0.0, model.init_std, (ratings.n_items, k))

    def loss() -> float:
        pred = mu + b_u[ratings.user] + b_i[ratings.item]
        pred = pred + np.sum(p[ratings.user] * q[ratings.item], axis=1)
        penalty = reg * (np.sum(p**2) + np.sum(q**2))
        penalty += model.reg_user_bias * np.sum(b_u**2) + model.reg_item_bias * np.sum(b_i**2)
        return float(np.sum((ratings.rating - pred) ** 2) + penalty)

    def half_step(rows, others, factors, bias, other_factors, other_bias, reg_bias) -> None:
        for r in range(factors.shape[0]):
            mine = rows == r
            y = np.c_[other_factors[others[mine]], np.ones(mine.sum())]
            t = ratings.rating[mine] - mu - other_bias[others[mine]]
            x = np.linalg.solve(y.T @ y + np.diag(np.r_[np.full(k, reg), reg_bias]), y.T @ t)
            factors[r], bias[r] = x[:k], x[k]

    losses, sweeps = [loss()], 0
    for _ in range(model.n_iter):
        sweeps += 1
        for side in ("users", "songs"):
            if side == "users":
                half_step(ratings.user, ratings.item, p, b_u, q, b_i, model.reg_user_bias)
            else:
                half_step(ratings.item, ratings.user, q, b_i, p, b_u, model.reg_item_bias)
            losses.append(loss())
            if model.tol > 0 and losses[-2] - losses[-1] <= model.tol * losses[-2]:
                return [p, q, b_u, b_i], sweeps, losses[-1]
    return [p, q, b_u, b_i], sweeps, losses[-1]


@pytest.mark.parametrize(("dtype", "close"), PRECISIONS)
@pytest.mark.parametrize("tol", [0.0, 1e-4, 1e-2])
@pytest.mark.parametrize("reg", [0.5, 50.0])
def test_biased_mf_is_plain_als_stopped_at_the_first_half_step_gaining_less_than_tol(
    monkeypatch: pytest.MonkeyPatch, dtype: type, close: float, tol: float, reg: float
) -> None:
    monkeypatch.setattr(matrix_factorization, "NORMAL_DTYPE", dtype)
    ratings, _ = small_matrix(6)
    model = BiasedMF(n_factors=3, reg=reg, n_iter=25, tol=tol, random_state=2).fit(ratings)
    want, sweeps, loss = reference_als(ratings, model)
    got = [model.user_factors_, model.item_factors_, model.user_bias_, model.item_bias_]
    assert model.n_iter_ == sweeps and (sweeps == 25) == (tol == 0.0)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, atol=max(close, 1e-9))
    assert model.train_loss_ == pytest.approx(loss, rel=max(close, 1e-9))
    resid = ratings.rating - model.predict(ratings.user, ratings.item, clip=False)
    assert model.train_rmse_ == pytest.approx(np.sqrt(np.mean(resid**2)), rel=1e-9)


def test_biased_mf_fits_a_planted_low_rank_matrix() -> None:
    """Noise-free complete biased rank-2 data: ALS with tiny regularisation reproduces it."""
    rng = np.random.default_rng(9)
    n_u, n_i = 40, 30
    p, q = rng.normal(size=(n_u, 2)), rng.normal(size=(n_i, 2))
    truth = 1.0 + rng.normal(size=(n_u, 1)) + rng.normal(size=(1, n_i)) + p @ q.T
    u, i = all_pairs(n_u, n_i)
    ratings = Ratings(u, i, truth.ravel(), n_u, n_i)
    model = BiasedMF(n_factors=2, reg=1e-6, reg_user_bias=1e-6, reg_item_bias=1e-6, n_iter=200)
    model.fit(ratings)
    assert model.train_rmse_ < 1e-3
    assert np.abs(predict_all(model, ratings) - truth).max() < 1e-2
