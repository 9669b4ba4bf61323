"""Optics of the virtual camera: point spread function, lens shading, distortion, lateral colour.

The PSF is applied to the linear camera-RGB image at sensor resolution as a discrete kernel built
from the optical transfer function (OTF) band-limited to the pixel grid: the kernel's discrete-time
Fourier transform equals the OTF up to Nyquist, so the MTF recorded in the ground truth is exactly
that of the simulated capture (kernel times the pixel aperture, since scenes with edges are rendered
with pixel-area coverage).

References
----------
.. [1] Goodman, J. W., *Introduction to Fourier Optics*, 3rd ed., 2005, section 6.3 (OTF of a
       diffraction-limited circular pupil).
.. [2] Ray, S. F., *Applied Photographic Optics*, 3rd ed., 2002, section 27 (cos^4 law, vignetting).
.. [3] Brown, D. C., "Decentering distortion of lenses", Photogrammetric Engineering 32(3), 1966
       (radial distortion polynomial).
.. [4] ISO 12233:2017, annex D (MTF of the slanted-edge measurement, pixel aperture).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lumatune.errors import UnsupportedError

__all__ = [
    "MTF_FREQUENCIES",
    "Optics",
    "apply_geometry",
    "apply_psf",
    "lens_shading",
    "map_box",
    "mtf_of_capture",
    "mtf50",
    "psf_kernels",
]

PSF_KINDS = ("gaussian", "airy", "none")

MTF_FREQUENCIES = np.round(np.arange(0.0, 1.0001, 0.01), 2)
"""Frequencies (cy/px) at which the truth records the MTF."""

_KERNEL_TAIL = 1e-4
"""Kernel rows/columns whose largest magnitude is below this fraction of the peak are cropped."""


@dataclass(frozen=True)
class Optics:
    """Lens model of the virtual camera.

    Attributes
    ----------
    psf : str
        "gaussian" (``sigma_px``), "airy" (diffraction at ``f_number``, ``pixel_pitch_um``) or "none".
    sigma_px : float
        Standard deviation of the Gaussian PSF, pixels.
    f_number : float
        Aperture: diffraction cut-off 1 / (wavelength N), and EXIF FNumber.
    pixel_pitch_um : float
        Pixel pitch, micrometres (diffraction scale; with the image diagonal, the sensor size and
        so the EXIF focal length).
    corner_field_angle_deg : float
        Half field angle at the image corner; relative illumination falls as cos^4 of the field
        angle. 0 switches the cos^4 fall-off off.
    vignetting : float
        Extra relative fall-off at the corner (mechanical vignetting), ``1 - vignetting rho^4`` at
        normalised radius ``rho`` (1 at the corner).
    distortion_k1 : float
        Radial distortion: the image point at normalised radius rho shows the scene at
        ``rho (1 + k1 rho^2)`` (positive = barrel).
    lateral_ca : tuple of float
        Relative magnification of the red and blue images against green (e.g. 5e-4).
    """

    psf: str = "gaussian"
    sigma_px: float = 0.6
    f_number: float = 5.6
    pixel_pitch_um: float = 3.9
    corner_field_angle_deg: float = 22.0
    vignetting: float = 0.15
    shading: bool = True
    distortion_k1: float = 0.0
    lateral_ca: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        if self.psf not in PSF_KINDS:
            raise UnsupportedError(f"optics psf {self.psf!r}: expected one of {', '.join(PSF_KINDS)}")
        if self.psf == "gaussian" and not self.sigma_px > 0:
            raise UnsupportedError(f"optics sigma_px {self.sigma_px}: must be > 0")
        if not (self.f_number > 0 and self.pixel_pitch_um > 0):
            raise UnsupportedError("optics f_number and pixel_pitch_um must be > 0")
        if not (0 < self.corner_field_angle_deg < 80 and 0 <= self.vignetting < 1):
            raise UnsupportedError("optics corner_field_angle_deg must be in (0, 80) and vignetting in [0, 1)")

    @property
    def has_geometry(self) -> bool:
        """Whether distortion or lateral chromatic aberration moves pixels."""
        return self.distortion_k1 != 0 or any(self.lateral_ca)

    def focal_length_mm(self, width: int, height: int) -> float:
        """Focal length giving the corner field angle on a sensor of ``width x height`` pixels."""
        half_diagonal_mm = 0.5e-3 * self.pixel_pitch_um * np.hypot(width, height)
        return float(half_diagonal_mm / np.tan(np.radians(self.corner_field_angle_deg)))


def _otf_gaussian(frequency: np.ndarray, sigma: float) -> np.ndarray:
    """OTF of a Gaussian PSF at radial frequency (cy/px)."""
    return np.exp(-2.0 * (np.pi * sigma * frequency) ** 2)


def _otf_airy(frequency: np.ndarray, cutoff: float) -> np.ndarray:
    """OTF of a diffraction-limited circular pupil (incoherent), cut-off frequency in cy/px.

    References
    ----------
    .. [1] Goodman, 2005, equation 6-32.
    """
    s = np.clip(np.abs(frequency) / cutoff, 0.0, 1.0)
    return 2.0 / np.pi * (np.arccos(s) - s * np.sqrt(1.0 - s * s))


def _crop_kernel(kernel: np.ndarray) -> np.ndarray:
    """Crop a centred kernel symmetrically to where it exceeds :data:`_KERNEL_TAIL` of its peak."""
    peak = np.abs(kernel).max()
    significant = np.flatnonzero(np.abs(kernel).max(axis=0) > _KERNEL_TAIL * peak)
    centre = kernel.shape[1] // 2
    radius = max(int(np.abs(significant - centre).max()), 1)
    cropped = kernel[centre - radius : centre + radius + 1, centre - radius : centre + radius + 1]
    return cropped / cropped.sum()


def _kernel_from_otf(otf, grid: int) -> np.ndarray:
    """2-D kernel (centred, odd size) whose DTFT is ``otf(fx, fy)`` on the band [-1/2, 1/2)^2."""
    f = np.fft.fftfreq(grid)
    transfer = otf(np.hypot(f[None, :], f[:, None]))
    kernel = np.fft.fftshift(np.real(np.fft.ifft2(transfer)))
    return _crop_kernel(kernel[: grid - 1, : grid - 1] if grid % 2 == 0 else kernel)


def psf_kernels(optics: Optics, wavelengths_nm: tuple[float, float, float]) -> list[np.ndarray]:
    """The PSF kernels of the R, G, B channels (float32, sum 1), at sensor resolution.

    Parameters
    ----------
    optics
        The lens model.
    wavelengths_nm
        Effective wavelength of each channel (diffraction only).

    References
    ----------
    .. [1] Goodman, 2005, section 6.3.
    """
    if optics.psf == "none":
        return [np.ones((1, 1), dtype=np.float32)] * 3
    if optics.psf == "gaussian":
        grid = 2 * int(np.ceil(6 * optics.sigma_px + 8)) + 1
        kernel = _kernel_from_otf(lambda f: _otf_gaussian(f, optics.sigma_px), grid)
        return [kernel.astype(np.float32)] * 3
    kernels = []
    for wavelength in wavelengths_nm:
        cutoff = optics.pixel_pitch_um / (wavelength * 1e-3 * optics.f_number)
        grid = 2 * int(np.ceil(12 / cutoff + 8)) + 1
        kernels.append(_kernel_from_otf(lambda f, c=cutoff: _otf_airy(f, c), grid).astype(np.float32))
    return kernels


def apply_psf(image: np.ndarray, kernels: list[np.ndarray]) -> np.ndarray:
    """Convolve each channel of an (H, W, 3) float32 image with its kernel, in place."""
    for channel, kernel in enumerate(kernels):
        if kernel.size > 1:
            plane = np.ascontiguousarray(image[:, :, channel])
            image[:, :, channel] = cv2.filter2D(plane, cv2.CV_32F, kernel, borderType=cv2.BORDER_REFLECT_101)
    return image


def mtf_of_capture(kernel: np.ndarray, frequencies: np.ndarray = MTF_FREQUENCIES) -> np.ndarray:
    """Horizontal MTF of the simulated capture: the kernel's DTFT times the pixel aperture.

    The kernel is summed over rows (line spread along x), its discrete-time Fourier transform taken
    at ``frequencies`` cy/px and multiplied by ``sinc(f)``, the MTF of a 1-px wide pixel aperture
    (the scene's area-sampled edge). Beyond Nyquist the DTFT repeats, as the sampled data do.

    References
    ----------
    .. [1] ISO 12233:2017, annex D.
    """
    line = kernel.sum(axis=0, dtype=np.float64)
    positions = np.arange(line.size) - line.size // 2
    transfer = np.cos(2 * np.pi * np.outer(frequencies, positions)) @ line
    return np.abs(transfer) * np.abs(np.sinc(frequencies))


def mtf50(kernel: np.ndarray) -> float:
    """First frequency (cy/px) where :func:`mtf_of_capture` falls to 0.5, by linear interpolation."""
    frequencies = np.linspace(0.0, 1.0, 2001)
    mtf = mtf_of_capture(kernel, frequencies)
    below = np.flatnonzero(mtf < 0.5)
    if below.size == 0:
        return 1.0
    i = below[0]
    f0, f1, m0, m1 = frequencies[i - 1], frequencies[i], mtf[i - 1], mtf[i]
    return float(f0 + (m0 - 0.5) * (f1 - f0) / (m0 - m1))


def _normalised_radius(width: int, height: int, step: int = 1) -> np.ndarray:
    """Distance of pixel centres from the image centre over the half diagonal (1 at the corners)."""
    x = (np.arange(0, width, step, dtype=np.float32) + 0.5 - width / 2)[None, :]
    y = (np.arange(0, height, step, dtype=np.float32) + 0.5 - height / 2)[:, None]
    return np.sqrt(x * x + y * y) / np.float32(0.5 * np.hypot(width, height))


def shading_of_radius(rho: np.ndarray, optics: Optics) -> np.ndarray:
    """Relative illumination at normalised radius ``rho``: cos^4 law times mechanical vignetting.

    References
    ----------
    .. [1] Ray, 2002, section 27.
    """
    rho = np.asarray(rho, dtype=np.float32)
    tan_corner = np.float32(np.tan(np.radians(optics.corner_field_angle_deg)))
    rho_squared = rho * rho
    cos_squared = np.float32(1.0) / (np.float32(1.0) + rho_squared * tan_corner * tan_corner)
    return cos_squared * cos_squared * (np.float32(1.0) - np.float32(optics.vignetting) * rho_squared * rho_squared)


def lens_shading(width: int, height: int, optics: Optics) -> np.ndarray | None:
    """(H, W) float32 relative illumination of the lens, 1 at the centre; None when switched off."""
    if not optics.shading:
        return None
    return shading_of_radius(_normalised_radius(width, height), optics)


def _geometry_maps(width: int, height: int, scale: np.ndarray, magnification: float):
    """cv2.remap maps sampling the undistorted image at ``centre + (p - centre) scale (1 + m)``."""
    cx, cy = width / 2 - 0.5, height / 2 - 0.5
    factor = scale * np.float32(1.0 + magnification)
    map_x = (np.arange(width, dtype=np.float32)[None, :] - cx) * factor + cx
    map_y = (np.arange(height, dtype=np.float32)[:, None] - cy) * factor + cy
    return map_x, map_y


def apply_geometry(image: np.ndarray, optics: Optics, *, chromatic: bool = True) -> np.ndarray:
    """Resample an (H, W, C) float32 image through radial distortion and lateral colour.

    The output pixel at normalised radius rho samples the input at ``rho (1 + k1 rho^2)``, times
    ``1 + lateral_ca`` for the red (channel 0) and blue (channel 2) images when ``chromatic``.
    """
    height, width = image.shape[:2]
    rho = _normalised_radius(width, height)
    scale = (1.0 + np.float32(optics.distortion_k1) * rho * rho).astype(np.float32)
    red, blue = optics.lateral_ca if chromatic else (0.0, 0.0)
    out = np.empty_like(image)
    for channel in range(image.shape[2]):
        magnification = {0: red, 2: blue}.get(channel, 0.0)
        map_x, map_y = _geometry_maps(width, height, scale, magnification)
        out[:, :, channel] = cv2.remap(
            np.ascontiguousarray(image[:, :, channel]), map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101
        )
    return out


def _image_point(x: float, y: float, width: int, height: int, k1: float) -> tuple[float, float]:
    """Where the scene point (x, y) lands in the distorted image (inverse of the sampling map)."""
    cx, cy, half_diagonal = width / 2, height / 2, 0.5 * np.hypot(width, height)
    ix, iy = x, y
    for _ in range(20):
        rho2 = ((ix - cx) ** 2 + (iy - cy) ** 2) / half_diagonal**2
        ix, iy = cx + (x - cx) / (1 + k1 * rho2), cy + (y - cy) / (1 + k1 * rho2)
    return ix, iy


def map_box(box: tuple[int, int, int, int], width: int, height: int, optics: Optics) -> tuple[int, int, int, int]:
    """A scene box moved through the distortion: the largest box inside the image of its outline.

    Lateral colour moves red and blue by at most ``lateral_ca`` of the radius; the box shrinks by
    that many pixels on each side.
    """
    if not optics.has_geometry:
        return box
    x0, y0, x1, y1 = box
    xs, ys = np.linspace(x0, x1, 9), np.linspace(y0, y1, 9)
    left = max(_image_point(x0, y, width, height, optics.distortion_k1)[0] for y in ys)
    right = min(_image_point(x1, y, width, height, optics.distortion_k1)[0] for y in ys)
    top = max(_image_point(x, y0, width, height, optics.distortion_k1)[1] for x in xs)
    bottom = min(_image_point(x, y1, width, height, optics.distortion_k1)[1] for x in xs)
    margin = max(abs(c) for c in optics.lateral_ca) * 0.5 * np.hypot(width, height)
    return (
        int(np.ceil(left + margin)),
        int(np.ceil(top + margin)),
        int(np.floor(right - margin)),
        int(np.floor(bottom - margin)),
    )
