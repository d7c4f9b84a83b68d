#!/usr/bin/python3
"""Golden fixtures for the C++ `stats` module (src/stats), computed with Debian's scipy.

Run with Debian's interpreter so the reference versions are the pinned ones:

    /usr/bin/python3 scripts/golden_stats.py          # writes tests/fixtures/stats/*.json

References used (Debian bookworm):
  * python3-scipy 1.10.1, python3-numpy 1.24   -- descriptive stats, kstest, shapiro, pearsonr, ...
  * python3-statsmodels 0.13.5 (DEV-ONLY dependency: needed to regenerate the Lilliefors goldens,
    never by the C++ build or tests; `apt-get install python3-statsmodels`).
  * Mardia and Henze-Zirkler: neither scipy nor statsmodels has them, so this script carries an
    independent, deliberately naive O(n^2) numpy transcription of the published formulas:
      - K. V. Mardia (1970), "Measures of multivariate skewness and kurtosis with applications",
        Biometrika 57(3), 519-530: b1 = n^-2 sum_ij d_ij^3, b2 = n^-1 sum_i d_ii^2,
        d_ij = (x_i - xbar)' S^-1 (x_j - xbar), S the biased (1/n) covariance.
      - N. Henze, B. Zirkler (1990), "A class of invariant consistent tests for multivariate
        normality", Commun. Statist. Theory Meth. 19(10), 3595-3617, with the lognormal p-value
        of the R package MVN (Korkmaz, Goksuluk, Zararsiz 2014).
    The C++ code computes Mardia's b1 through third-order moment tensors instead, so the two are
    independent computations of the same quantity.

Samples: small ones (n <= 500) are stored in the JSON. Large ones are regenerated in both languages
from a splitmix64 stream (see `SplitMix64` below and tests/stats/sample_generator.h), which uses only
IEEE arithmetic and glibc's log/cos/sqrt (Python's `math` module calls glibc, as does C++'s <cmath>),
so both sides produce bit-identical numbers; the JSON stores a checksum to prove it.
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.special
import scipy.stats as st

try:
    from statsmodels.stats.diagnostic import lilliefors
    from statsmodels.stats._lilliefors import pval_lf
except ImportError:  # pragma: no cover - dev-only dependency
    sys.exit("Error: statsmodels is missing ---> HINT: apt-get install python3-statsmodels "
             "(only needed to regenerate the Lilliefors goldens)")

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "stats")
# Samples up to this size are written into the JSON; larger ones are regenerated from the seed.
MAX_STORED = 500
# Seed shared by every sample; each sample derives its own stream from (SEED, its index).
SEED = 20240607
MASK64 = 0xFFFFFFFFFFFFFFFF


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood 2014) -- mirrored bit for bit in tests/stats/sample_generator.h."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def uniform(self):
        """Uniform on [0, 1) with 53 random bits."""
        return (self.next_u64() >> 11) * (1.0 / 9007199254740992.0)

    def normal(self):
        """Box-Muller, one output per pair of uniforms."""
        u1 = self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def generate(kind, n, stream):
    """Sample of `kind` and size n from stream number `stream` (same recipe as the C++ side)."""
    rng = SplitMix64(SEED * 1000 + stream)
    out = []
    for _ in range(n):
        if kind == "normal":  # N(1.5, 2^2)
            out.append(1.5 + 2.0 * rng.normal())
        elif kind == "exponential":  # Exp(1)
            out.append(-math.log(1.0 - rng.uniform()))
        elif kind == "uniform":  # U(-1, 1)
            out.append(2.0 * rng.uniform() - 1.0)
        elif kind == "bimodal":  # 0.5 N(-2.5, 1) + 0.5 N(2.5, 1)
            z = rng.normal()
            out.append(z + (-2.5 if rng.uniform() < 0.5 else 2.5))
        elif kind == "radius":  # |(z1, z2)| of a standard 2-D normal: Rayleigh, our real use case
            a = rng.normal()
            b = rng.normal()
            out.append(math.sqrt(a * a + b * b))
        elif kind == "normal2d":  # correlated 2-D normal, flattened (x0, y0, x1, y1, ...)
            a = rng.normal()
            b = rng.normal()
            out.append(0.5 + a)
            out.append(-1.0 + 0.6 * a + 0.8 * b)
        elif kind == "ring2d":  # clearly non-normal 2-D: noisy ring of radius 2
            t = 2.0 * math.pi * rng.uniform()
            r = 2.0 + 0.3 * rng.normal()
            out.append(r * math.cos(t))
            out.append(r * math.sin(t))
        else:
            raise ValueError(f"unknown sample kind '{kind}'")
    return out


def sample_entry(kind, n, stream):
    values = generate(kind, n, stream)
    entry = {"kind": kind, "n": n, "stream": stream, "count": len(values),
             "checksum": math.fsum(values), "first": values[:3]}
    if len(values) <= 2 * MAX_STORED:
        entry["values"] = values
    return entry, np.array(values, dtype=np.float64)


def write(name, payload):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    payload = dict(payload)
    payload["generated_by"] = (f"scripts/golden_stats.py with scipy {scipy.__version__}, "
                               f"numpy {np.__version__}")
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------------------------------------
# 1-D samples
ONE_D = [("normal", 3), ("normal", 10), ("exponential", 10), ("normal", 50), ("uniform", 50),
         ("bimodal", 50), ("normal", 500), ("exponential", 500), ("uniform", 500), ("bimodal", 500),
         ("radius", 500), ("normal", 5000), ("radius", 5000), ("uniform", 5000),
         ("exponential", 5000), ("normal", 20000), ("radius", 20000), ("bimodal", 20000),
         ("radius", 60000)]


def ks_fields(x, mu, sigma):
    exact = st.kstest(x, "norm", args=(mu, sigma))  # method='auto' == 'exact' in 1.10.1
    asymp = st.kstest(x, "norm", args=(mu, sigma), method="asymp")
    return {"mu": mu, "sigma": sigma, "statistic": float(exact.statistic),
            "pvalue": float(exact.pvalue), "pvalue_asymp": float(asymp.pvalue)}


def one_d_cases():
    cases = []
    for stream, (kind, n) in enumerate(ONE_D):
        entry, x = sample_entry(kind, n, stream)
        case = {"sample": entry}
        case["mean"] = float(np.mean(x))
        case["var0"] = float(np.var(x))
        case["var1"] = float(np.var(x, ddof=1)) if n > 1 else None
        case["sem"] = float(st.sem(x))
        counts, edges = np.histogram(x, bins=10)
        case["hist10"] = {"counts": counts.tolist(), "edges": edges.tolist()}
        counts, edges = np.histogram(x, bins=7, range=(-1.0, 2.0))
        case["hist7_range"] = {"counts": counts.tolist(), "edges": edges.tolist()}
        case["ks_std0"] = ks_fields(x, float(np.mean(x)), float(np.std(x)))
        case["ks_std1"] = ks_fields(x, float(np.mean(x)), float(np.std(x, ddof=1)))
        case["ks_fixed"] = ks_fields(x, 1.0, 2.0)
        if n >= 4:
            d, p = lilliefors(x, dist="norm", pvalmethod="approx")
            case["lilliefors"] = {"statistic": float(d), "pvalue_statsmodels": float(p),
                                  "pvalue_dallal_wilkinson": float(pval_lf(d, n))}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            w, pw = st.shapiro(x)
        case["shapiro"] = {"statistic": float(w), "pvalue": float(pw),
                           "warned_large_n": any("N > 5000" in str(c.message) for c in caught)}
        cases.append(case)
    return cases


def kolmogorov_grid():
    """kstwo.sf (kolmogn) and kolmogorov (kstwobign.sf) on a grid covering every branch."""
    rows = []
    for n in [1, 2, 3, 5, 10, 20, 50, 100, 140, 141, 500, 1000, 5000, 10000, 20000, 60000, 150000]:
        for t in [0.3, 0.5, 0.55, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0]:
            x = t / math.sqrt(n)  # sqrt(n) * D on a fixed scale
            for xx in {x, min(0.98, 0.6 + 0.01 * t), 0.75 / n, 1.0 - 0.6 / n}:
                if not 0.0 < xx < 1.0:
                    continue
                rows.append([n, xx, float(st.kstwo.sf(xx, n)), float(st.kstwo.cdf(xx, n)),
                             float(scipy.special.smirnov(n, xx))])
    big = [[z, float(scipy.special.kolmogorov(z)), float(st.kstwobign.cdf(z))]
           for z in [0.05, 0.1, 0.3, 0.5, 0.8, 0.82, 0.83, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0]]
    return {"kstwo": rows, "kolmogorov": big}


# ---------------------------------------------------------------------------------------------
# 2-D point sets: Mardia, Henze-Zirkler, covariance, correlation, paired distances
TWO_D = [("normal2d", 10), ("ring2d", 10), ("normal2d", 50), ("ring2d", 50), ("normal2d", 500),
         ("ring2d", 500), ("normal2d", 2000), ("ring2d", 2000)]


def mardia_reference(X):
    n, d = X.shape
    C = X - X.mean(axis=0)
    S = C.T @ C / n
    D = C @ np.linalg.inv(S) @ C.T  # (n, n) Mahalanobis cross products
    b1 = (D ** 3).sum() / n ** 2
    b2 = (np.diag(D) ** 2).sum() / n
    skew = n * b1 / 6.0
    dof = d * (d + 1) * (d + 2) / 6.0
    kurt = (b2 - d * (d + 2)) / math.sqrt(8.0 * d * (d + 2) / n)
    return {"b1": b1, "b2": b2, "skewness_statistic": skew, "skewness_dof": dof,
            "skewness_pvalue": float(st.chi2.sf(skew, dof)), "kurtosis_statistic": kurt,
            "kurtosis_pvalue": float(2.0 * st.norm.sf(abs(kurt)))}


def henze_zirkler_reference(X):
    n, d = X.shape
    C = X - X.mean(axis=0)
    S = C.T @ C / n  # MVN's convention: the biased covariance
    Sinv = np.linalg.inv(S)
    Dj = np.einsum("ij,jk,ik->i", C, Sinv, C)
    G = C @ Sinv @ C.T
    Djk = Dj[:, None] + Dj[None, :] - 2.0 * G  # squared Mahalanobis distances between points
    b = (1.0 / math.sqrt(2.0)) * ((2 * d + 1) / 4.0) ** (1.0 / (d + 4)) * n ** (1.0 / (d + 4))
    b2 = b * b
    hz = (np.exp(-b2 / 2.0 * Djk).sum() / n
          - 2.0 * (1.0 + b2) ** (-d / 2.0) * np.exp(-b2 / (2.0 * (1.0 + b2)) * Dj).sum()
          + n * (1.0 + 2.0 * b2) ** (-d / 2.0))
    a = 1.0 + 2.0 * b2
    wb = (1.0 + b2) * (1.0 + 3.0 * b2)
    mu = 1.0 - a ** (-d / 2.0) * (1.0 + d * b2 / a + d * (d + 2) * b2 ** 2 / (2.0 * a ** 2))
    si2 = (2.0 * (1.0 + 4.0 * b2) ** (-d / 2.0)
           + 2.0 * a ** (-d) * (1.0 + 2.0 * d * b2 ** 2 / a ** 2
                                + 3.0 * d * (d + 2) * b2 ** 4 / (4.0 * a ** 4))
           - 4.0 * wb ** (-d / 2.0) * (1.0 + 3.0 * d * b2 ** 2 / (2.0 * wb)
                                       + d * (d + 2) * b2 ** 4 / (2.0 * wb ** 2)))
    pmu = math.log(math.sqrt(mu ** 4 / (si2 + mu ** 2)))
    psi = math.sqrt(math.log((si2 + mu ** 2) / mu ** 2))
    p = float(st.lognorm.sf(hz, psi, scale=math.exp(pmu)))
    return {"statistic": float(hz), "pvalue": p, "beta": b, "lognormal_mu": pmu,
            "lognormal_sigma": psi}


def two_d_cases():
    cases = []
    for i, (kind, n) in enumerate(TWO_D):
        stream = 100 + i
        entry, flat = sample_entry(kind, n, stream)
        X = flat.reshape(n, 2)
        case = {"sample": entry}
        case["mean"] = X.mean(axis=0).tolist()
        case["cov"] = np.cov(X, rowvar=False).ravel().tolist()
        case["cov0"] = np.cov(X, rowvar=False, ddof=0).ravel().tolist()
        r = st.pearsonr(X[:, 0], X[:, 1])
        case["pearson"] = {"statistic": float(r.statistic), "pvalue": float(r.pvalue)}
        s = st.spearmanr(X[:, 0], X[:, 1])
        case["spearman"] = {"statistic": float(s.statistic), "pvalue": float(s.pvalue)}
        case["mardia"] = mardia_reference(X)
        case["henze_zirkler"] = henze_zirkler_reference(X)
        # Paired distances to a second set: the same points shifted by a deterministic wobble.
        Y = X + np.stack([np.sin(np.arange(n)), np.cos(0.5 * np.arange(n))], axis=1)
        dist = np.sqrt(((X - Y) ** 2).sum(axis=1))
        case["paired_distance"] = {"mean": float(dist.mean()), "var1": float(dist.var(ddof=1)),
                                   "sem": float(st.sem(dist))}
        # Shapiro-Wilk on the flattened coordinates, as the analysis does with (N, 2) latents.
        w, pw = st.shapiro(flat)
        case["shapiro_flat"] = {"statistic": float(w), "pvalue": float(pw)}
        cases.append(case)
    # Our real case: 5000 latent points flattened to 10000 values (> 5000: scipy warns).
    entry, flat = sample_entry("normal2d", 5000, 199)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w, pw = st.shapiro(flat)
    big = {"sample": entry, "shapiro_flat": {"statistic": float(w), "pvalue": float(pw),
           "warned_large_n": any("N > 5000" in str(c.message) for c in caught)}}
    return cases, big


def main():
    write("one_d.json", {"seed": SEED, "cases": one_d_cases()})
    write("kolmogorov.json", kolmogorov_grid())
    cases, big = two_d_cases()
    write("two_d.json", {"seed": SEED, "cases": cases, "shapiro_10000": big})


if __name__ == "__main__":
    main()
