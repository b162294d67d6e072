import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsynth.diffusion import make_schedule, model_predictions, sample, sample_stepwise


def toy_model(x, t):
    """A deterministic stand-in for a network: depends on both x and t."""
    return 0.5 * x + 0.01 * t[:, None].astype(jnp.float32)


def reference_loop(model_fn, schedule, shape, key, sampler, steps, eta=0.0):
    """Plain per-step formulas (Ho et al. eq. 7, Song et al. eq. 12) in a Python loop, written
    independently of the library's step functions."""
    a = np.asarray(schedule.alphas_cumprod, np.float64)
    betas = np.asarray(schedule.betas, np.float64)
    T = len(a)
    if sampler == "ddpm":
        ts = list(range(T - 1, -1, -1))
    else:
        ts = sorted({int(round(v)) for v in np.linspace(0, T - 1, steps)}, reverse=True)
    k0, ks = jax.random.split(key)
    x = jax.random.normal(k0, shape, jnp.float32)
    keys = jax.random.split(ks, len(ts))
    for i, t in enumerate(ts):
        t_prev = ts[i + 1] if i + 1 < len(ts) else -1
        ab, ab_prev = a[t], (a[t_prev] if t_prev >= 0 else 1.0)
        eps = model_fn(x, jnp.full((shape[0],), t, jnp.int32))
        x0 = jnp.clip((x - np.sqrt(1 - ab) * eps) / np.sqrt(ab), -1, 1)
        eps = (x - np.sqrt(ab) * x0) / np.sqrt(1 - ab)
        z = jax.random.normal(keys[i], shape, jnp.float32)
        if sampler == "ddpm":
            mean = (betas[t] * np.sqrt(ab_prev) / (1 - ab) * x0
                    + (1 - ab_prev) * np.sqrt(1 - betas[t]) / (1 - ab) * x)
            x = mean + np.sqrt(betas[t] * (1 - ab_prev) / (1 - ab)) * z
        else:
            sigma = eta * np.sqrt((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev))
            x = np.sqrt(ab_prev) * x0 + np.sqrt(max(1 - ab_prev - sigma**2, 0)) * eps + sigma * z
    return x


@pytest.mark.parametrize("sampler,steps,eta", [("ddpm", None, 0.0), ("ddim", 7, 0.0),
                                               ("ddim", 7, 0.6)])
def test_scan_sampler_equals_python_loop_reference(sampler, steps, eta):
    schedule = make_schedule("linear", 40)
    key = jax.random.key(3)
    shape = (5, 3)
    kw = dict(sampler=sampler, steps=steps, eta=eta)
    scanned = jax.jit(lambda k: sample(toy_model, schedule, shape, k, **kw))(key)
    stepwise = sample_stepwise(toy_model, schedule, shape, key, **kw)
    reference = reference_loop(toy_model, schedule, shape, key, sampler, steps, eta)
    np.testing.assert_allclose(scanned, stepwise, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scanned, reference, rtol=1e-4, atol=1e-4)


def gaussian_eps_model(mu, s, schedule):
    """The exact noise predictor E[eps | x_t] for data ~ N(mu, s^2)."""

    def fn(x, t):
        ab = schedule.alphas_cumprod[t][:, None]
        return jnp.sqrt(1 - ab) * (x - jnp.sqrt(ab) * mu) / (ab * s**2 + 1 - ab)

    return fn


def ddpm_output_distribution(mu, s, schedule):
    """Mean and std of what the DDPM sampler produces for data ~ N(mu, s^2), exactly.

    With the exact noise predictor every step is affine in x_t plus Gaussian noise,
    x_{t-1} = A x_t + B + sigma z, so mean and variance propagate in closed form from N(0, 1).
    """
    a = np.asarray(schedule.alphas_cumprod, np.float64)
    betas = np.asarray(schedule.betas, np.float64)
    m, v = 0.0, 1.0
    for t in range(len(a) - 1, -1, -1):
        ab, ab_prev = a[t], (a[t - 1] if t > 0 else 1.0)
        c = np.sqrt(1 - ab) / (ab * s**2 + 1 - ab)
        a0, b0 = (1 - np.sqrt(1 - ab) * c) / np.sqrt(ab), np.sqrt(1 - ab) * c * mu
        coef_x0 = betas[t] * np.sqrt(ab_prev) / (1 - ab)
        coef_xt = (1 - ab_prev) * np.sqrt(1 - betas[t]) / (1 - ab)
        A, B = coef_x0 * a0 + coef_xt, coef_x0 * b0
        m, v = A * m + B, A**2 * v + betas[t] * (1 - ab_prev) / (1 - ab)
    return m, np.sqrt(v)


def test_ddim_eta1_all_steps_matches_ddpm_on_gaussian():
    mu, s, n = 0.3, 0.2, 20_000
    schedule = make_schedule("linear", 200)
    model = gaussian_eps_model(mu, s, schedule)
    kw = dict(prediction="epsilon", clip_denoised=False)
    ddpm = jax.jit(lambda k: sample(model, schedule, (n, 1), k, sampler="ddpm", **kw))(
        jax.random.key(0))
    ddim = jax.jit(lambda k: sample(model, schedule, (n, 1), k, sampler="ddim", steps=200,
                                    eta=1.0, **kw))(jax.random.key(1))
    mean, std = ddpm_output_distribution(mu, s, schedule)
    assert abs(mean - mu) < 0.01 and abs(std / s - 1) < 0.1  # the sampler is close to the data
    for x in (ddpm, ddim):  # both samplers have exactly that output law (up to sampling error)
        assert abs(float(x.mean()) - mean) < 0.005
        assert abs(float(x.std()) - std) < 0.005
    # Deterministic DDIM (eta=0) is a different sampler: same law in the limit, other draws.
    ddim0 = jax.jit(lambda k: sample(model, schedule, (n, 1), k, sampler="ddim", steps=200,
                                     eta=0.0, **kw))(jax.random.key(1))
    assert float(jnp.abs(ddim0 - ddim).mean()) > 1e-3


def test_v_prediction_round_trip():
    schedule = make_schedule("cosine", 50)
    k1, k2 = jax.random.split(jax.random.key(0))
    x0 = jax.random.uniform(k1, (6, 4), minval=-1, maxval=1)
    eps = jax.random.normal(k2, (6, 4))
    t = jnp.arange(6) * 9
    x_t = schedule.add_noise(x0, eps, t)
    ab = schedule.alphas_cumprod[t][:, None]
    v = jnp.sqrt(ab) * eps - jnp.sqrt(1 - ab) * x0
    eps_hat, x0_hat = model_predictions(v, x_t, t, schedule, "v")
    np.testing.assert_allclose(eps_hat, eps, atol=1e-4)
    np.testing.assert_allclose(x0_hat, x0, atol=1e-4)


def test_sampler_argument_errors():
    schedule = make_schedule("linear", 10)
    with pytest.raises(ValueError, match="ddpm sampler uses every one"):
        sample(toy_model, schedule, (1, 1), jax.random.key(0), sampler="ddpm", steps=5)
    with pytest.raises(ValueError, match="steps must be in"):
        sample(toy_model, schedule, (1, 1), jax.random.key(0), sampler="ddim", steps=11)
    with pytest.raises(ValueError, match="unknown sampler"):
        sample(toy_model, schedule, (1, 1), jax.random.key(0), sampler="euler")


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedules_are_monotone(name):
    s = make_schedule(name, 1000)
    ab = np.asarray(s.alphas_cumprod)
    assert np.all(np.diff(ab) < 0) and 0 < ab[-1] < 0.01 and ab[0] > 0.99
    assert np.all((np.asarray(s.betas) > 0) & (np.asarray(s.betas) < 1))
