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


def test_dpm_solver_pp_converges_to_the_ddim_ode_solution():
    # Gaussian data has an exact noise predictor and an exact probability-flow ODE: the
    # standardised value z = (x_t - sqrt(ab) mu) / sqrt(ab s^2 + 1 - ab) is constant along it.
    mu, s = 0.3, 0.5
    schedule = make_schedule("cosine", 1000)
    model = gaussian_eps_model(mu, s, schedule)
    kw = dict(prediction="epsilon", clip_denoised=False)
    key = jax.random.key(0)

    def run(sampler, steps):
        return np.asarray(jax.jit(lambda k: sample(model, schedule, (4096, 1), k, sampler=sampler,
                                                   steps=steps, **kw))(key), np.float64)

    x_T = np.asarray(jax.random.normal(jax.random.split(key)[0], (4096, 1)), np.float64)
    ab_T = float(schedule.alphas_cumprod[-1])
    exact = mu + s * (x_T - np.sqrt(ab_T) * mu) / np.sqrt(ab_T * s**2 + 1 - ab_T)
    ddim_1000 = run("ddim", 1000)
    assert np.abs(ddim_1000 - exact).max() < 5e-3
    errors = {n: np.abs(run("dpmpp_2m", n) - ddim_1000).mean() for n in (5, 10, 20, 50)}
    assert errors[5] > errors[10] > errors[20] > errors[50] and errors[50] < 3e-3, errors
    # Second order on a log-SNR grid: at 10 and 20 steps far closer to the ODE solution than
    # first-order DDIM.
    for n in (10, 20):
        assert errors[n] < 0.5 * np.abs(run("ddim", n) - ddim_1000).mean(), n


def test_classifier_free_guidance_combines_conditional_and_unconditional():
    from flax import nnx

    from jaxsynth.models import UNet
    from jaxsynth.objectives.denoising import Denoising, guided

    def toy(x, t, y=None):  # depends on the label; -1 / None is "no label"
        y = jnp.full(x.shape[:1], -1) if y is None else y
        return 0.5 * x + 0.1 * y[:, None].astype(jnp.float32) + 0.001 * t[:, None]

    x, t, y = jnp.ones((4, 3)), jnp.arange(4), jnp.array([0, 1, 2, 3])
    c, u = toy(x, t, y), toy(x, t)
    np.testing.assert_allclose(guided(toy, y, 0.0)(x, t), u, atol=1e-6)
    np.testing.assert_allclose(guided(toy, y, 1.0)(x, t), c, atol=1e-6)
    np.testing.assert_allclose(guided(toy, y, 3.0)(x, t), u + 3.0 * (c - u), atol=1e-6)
    objective = Denoising(make_schedule("cosine", 50), clip_denoised=False)
    key = jax.random.key(0)
    zero = objective.sample(toy, (4, 3), key, sampler="dpmpp_2m", steps=5, labels=y, guidance=0.0)
    plain = objective.sample(toy, (4, 3), key, sampler="dpmpp_2m", steps=5)
    np.testing.assert_allclose(zero, plain, atol=1e-5)
    strong = objective.sample(toy, (4, 3), key, sampler="dpmpp_2m", steps=5, labels=y, guidance=3.0)
    assert np.abs(np.asarray(strong - plain)).max() > 1e-3

    net = UNet((8, 8, 1), channels=8, channel_mults=(1,), attn_resolutions=(), num_heads=2,
               num_classes=3, rngs=nnx.Rngs(0))
    # Zero-initialised layers make every block start as the identity; randomise them so the
    # label embedding reaches the output.
    leaves, treedef = jax.tree.flatten(nnx.state(net, nnx.Param))
    keys = jax.random.split(jax.random.key(1), len(leaves))
    nnx.update(net, jax.tree.unflatten(treedef, [
        0.1 * jax.random.normal(k, v.shape) if not bool(jnp.any(v)) else v
        for k, v in zip(keys, leaves, strict=True)]))
    # One non-constant image twice (a constant one loses any per-channel shift in GroupNorm).
    img, tt = jnp.tile(jax.random.normal(jax.random.key(2), (1, 8, 8, 1)), (2, 1, 1, 1)), jnp.array([5, 5])
    a, b = net(img, tt, jnp.array([0, 1])), net(img, tt, jnp.array([-1, -1]))
    assert float(jnp.abs(a[0] - a[1]).max()) > 1e-4  # labels change the prediction
    np.testing.assert_allclose(b, net(img, tt), atol=1e-6)  # None means "no label"
    with pytest.raises(ValueError, match="num_classes=0"):
        UNet((8, 8, 1), channels=8, channel_mults=(1,), attn_resolutions=(), num_heads=2,
             rngs=nnx.Rngs(0))(img, tt, jnp.array([0, 1]))

def test_sde_dpm_solver_pp_samples_the_data_distribution():
    # eta = 1 injects fresh noise each step; with the exact predictor of N(mu, s^2) data the
    # samples keep that distribution (the ODE path would too, but from other draws).
    mu, s = 0.3, 0.5
    schedule = make_schedule("cosine", 1000)
    model = gaussian_eps_model(mu, s, schedule)
    kw = dict(prediction="epsilon", clip_denoised=False, sampler="dpmpp_2m", steps=20)
    def fn(key, eta):  # eta is static: the ODE solver draws no noise at all
        return jax.jit(lambda k: sample(model, schedule, (8192, 1), k, eta=eta, **kw))(key)

    sde = np.asarray(fn(jax.random.key(1), 1.0))
    assert abs(sde.mean() - mu) < 0.02 and abs(sde.std() - s) < 0.02, (sde.mean(), sde.std())
    ode = np.asarray(fn(jax.random.key(1), 0.0))
    assert np.abs(sde - ode).mean() > 0.1  # the noise really changes the path
