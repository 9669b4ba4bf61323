"""Sensor of the virtual camera: colour filter array, photon and read noise, fixed pattern, ADC.

The signal reaching the sensor is given in units of the full-scale electron count at the capture
ISO (1.0 = white level). Electrons are drawn from a Poisson law (shot noise) around the signal
times the pixel response non-uniformity (PRNU); read noise and dark-current shot noise (one
Gaussian of variance read^2 + dark electrons) and dark-signal non-uniformity (DSNU, fixed offset)
are added, the well clips at the full
well, and the ADC scales by the ISO gain, adds the black level, rounds and clips to the bit depth.
The dark current's mean is taken as removed by the optical-black clamp, so the black level is exact.

Temporal noise follows the DNG NoiseProfile model ``variance = S x + O`` of the normalised signal
x exactly (Poisson variance equals its mean); PRNU and DSNU are fixed patterns (the same for every
seed) and are not part of it.

References
----------
.. [1] EMVA Standard 1288, release 4.0, 2021: linear camera model (sections 2.1-2.6), dark current,
       DSNU and PRNU.
.. [2] Adobe, DNG Specification 1.6.0.0, tag NoiseProfile.
.. [3] Foi, A., Trimeche, M., Katkovnik, V., Egiazarian, K., "Practical Poissonian-Gaussian noise
       modeling and fitting for single-image raw-data", IEEE TIP 17(10), 2008.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lumatune.errors import UnsupportedError

__all__ = ["Sensor", "capture", "mosaic_signal"]


@dataclass(frozen=True)
class Sensor:
    """Sensor and read-out model.

    Attributes
    ----------
    full_well_e : float
        Full-well capacity, electrons; reaches the white level at ``base_iso``.
    base_iso : float
        ISO at which the white level equals the full well.
    read_noise_e : float
        Read noise, electrons rms (input-referred, the same at every ISO).
    dark_current_e_per_s : float
        Dark current, electrons per second (its shot noise is added, its mean clamped away).
    prnu : float
        Pixel response non-uniformity, relative rms (fixed pattern).
    dsnu_e : float
        Dark signal non-uniformity, electrons rms (fixed pattern).
    bit_depth : int
        ADC bits (12 or 14); white level ``2**bit_depth - 1``.
    black_level : int or None
        Black level, DN; None for ``2**(bit_depth - 5)`` (512 at 14 bits).
    base_exposure_s : float
        Exposure time at ev 0 and ``base_iso``; it halves per ISO doubling (EXIF, dark current).
    pattern_seed : int
        Seed of the fixed patterns (PRNU, DSNU), independent of the shot's seed.
    """

    full_well_e: float = 40000.0
    base_iso: float = 100.0
    read_noise_e: float = 2.5
    dark_current_e_per_s: float = 0.5
    prnu: float = 0.002
    dsnu_e: float = 0.5
    bit_depth: int = 14
    black_level: int | None = None
    base_exposure_s: float = 1 / 100
    pattern_seed: int = 1288

    def __post_init__(self) -> None:
        if self.bit_depth not in (12, 14, 16):
            raise UnsupportedError(f"sensor bit_depth {self.bit_depth}: expected 12, 14 or 16")
        if not (self.full_well_e > 0 and self.base_iso > 0 and self.base_exposure_s > 0):
            raise UnsupportedError("sensor full_well_e, base_iso and base_exposure_s must be > 0")
        if min(self.read_noise_e, self.dark_current_e_per_s, self.prnu, self.dsnu_e) < 0:
            raise UnsupportedError("sensor noise parameters must be >= 0")
        if not 0 <= self.black_dn < self.white_level // 2:
            raise UnsupportedError(f"sensor black_level {self.black_level}: must be in [0, {self.white_level // 2})")

    @property
    def white_level(self) -> int:
        """Largest DN the ADC writes."""
        return 2**self.bit_depth - 1

    @property
    def black_dn(self) -> int:
        """The black level, DN."""
        return 2 ** (self.bit_depth - 5) if self.black_level is None else int(self.black_level)

    def full_scale_e(self, iso: float) -> float:
        """Electrons that reach the white level at ``iso``."""
        return self.full_well_e * self.base_iso / iso

    def gain_dn_per_e(self, iso: float) -> float:
        """Conversion gain at ``iso``, DN per electron."""
        return (self.white_level - self.black_dn) / self.full_scale_e(iso)

    def exposure_time_s(self, iso: float, ev: float) -> float:
        """Exposure time of a capture at ``iso`` and ``ev`` (the white lands at the same DN)."""
        return self.base_exposure_s * 2.0**ev * self.base_iso / iso

    def noise_profile(self, iso: float, ev: float) -> tuple[float, float]:
        """DNG NoiseProfile (S, O): temporal variance ``S x + O`` of the normalised signal x.

        S = 1 / full-scale electrons (shot noise); O = (read noise^2 + dark electrons) / full-scale
        electrons^2 + the ADC's rounding, 1/12 DN^2.

        References
        ----------
        .. [1] Adobe, DNG Specification 1.6.0.0, NoiseProfile; EMVA 1288 (2021), equation 2.11.
        """
        electrons = self.full_scale_e(iso)
        dark_e = self.dark_current_e_per_s * self.exposure_time_s(iso, ev)
        range_dn = self.white_level - self.black_dn
        offset = (self.read_noise_e**2 + dark_e) / electrons**2 + 1.0 / (12.0 * range_dn**2)
        return 1.0 / electrons, offset


def mosaic_signal(image: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    """Sample an (H, W, 3) image through a CFA pattern aligned with pixel (0, 0): (H, W) float32."""
    rows, cols = pattern.shape
    out = np.empty(image.shape[:2], dtype=np.float32)
    for i in range(rows):
        for j in range(cols):
            out[i::rows, j::cols] = image[i::rows, j::cols, pattern[i, j]]
    return out


def _fixed_patterns(shape: tuple[int, int], sensor: Sensor) -> tuple[np.ndarray | None, np.ndarray | None]:
    """PRNU gain (1 + prnu N) and DSNU offset (electrons) maps, or None where switched off."""
    rng = np.random.default_rng(sensor.pattern_seed)
    gain = offset = None
    if sensor.prnu > 0:
        gain = rng.standard_normal(shape, dtype=np.float32)
        gain *= np.float32(sensor.prnu)
        gain += np.float32(1.0)
    if sensor.dsnu_e > 0:
        offset = rng.standard_normal(shape, dtype=np.float32)
        offset *= np.float32(sensor.dsnu_e)
    return gain, offset


def capture(signal: np.ndarray, sensor: Sensor, *, iso: float, ev: float, seed: int) -> np.ndarray:
    """Turn a mosaic signal (full scale = 1 at ``iso``) into raw DN: noise, clipping, quantisation.

    Parameters
    ----------
    signal
        (H, W) float32 expected signal, 1.0 = white level; consumed (modified in place).
    sensor
        The sensor model.
    iso, ev
        Capture ISO and exposure (ev sets the exposure time, hence the dark signal).
    seed
        Seed of the temporal noise.

    Returns
    -------
    numpy.ndarray
        (H, W) uint16 raw mosaic, black level included.

    References
    ----------
    .. [1] EMVA Standard 1288 (2021), sections 2.1-2.6.
    """
    rng = np.random.default_rng(seed)
    full_scale = np.float32(sensor.full_scale_e(iso))
    gain, offset = _fixed_patterns(signal.shape, sensor)
    electrons = signal
    electrons *= full_scale
    if gain is not None:
        electrons *= gain
    np.maximum(electrons, 0.0, out=electrons)
    electrons = rng.poisson(electrons).astype(np.float32)
    dark_e = sensor.dark_current_e_per_s * sensor.exposure_time_s(iso, ev)
    sigma = np.float32(np.sqrt(sensor.read_noise_e**2 + dark_e))
    if sigma > 0:
        noise = rng.standard_normal(signal.shape, dtype=np.float32)
        noise *= sigma
        electrons += noise
    if offset is not None:
        electrons += offset
    np.minimum(electrons, np.float32(sensor.full_well_e), out=electrons)
    electrons *= np.float32(sensor.gain_dn_per_e(iso))
    electrons += np.float32(sensor.black_dn)
    np.rint(electrons, out=electrons)
    np.clip(electrons, 0, sensor.white_level, out=electrons)
    return electrons.astype(np.uint16)
