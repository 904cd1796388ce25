"""torchvision.transforms' classes: geometric, random and conversion transforms.

Each takes a PIL image or an image tensor (..., C, H, W) and calls the op of
``functional`` of the same name. Random transforms draw from deepcore's
global stream (``deepcore.manual_seed`` makes a run repeat), the same draws
in the same order as torchvision's (a flip: one rand(1) < p; a crop: randint
for the row, then for the column). torchvision's transforms are nn.Modules;
these are plain objects with the same ``forward`` and ``__call__``.
"""
import math
import numbers
import warnings

from ...data.transforms import Compose, Lambda, Normalize, ToTensor  # noqa: F401  (torchvision's names too)
from ...ops.random import rand, randint
from ...tensor import Tensor
from . import functional as F
from .functional import InterpolationMode


def _uniform(low, high):
    """One draw from U(low, high) of deepcore's stream (torch.empty(1).uniform_(low, high))."""
    return low + (high - low) * rand(1).item()


def _randint(low, high):
    return int(randint(low, high, (1,)).item())


def _setup_size(op, size):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise ValueError(f"{op}: please provide only two dimensions (h, w) for size, got {size!r}")
    return tuple(size)


def _check_sequence(op, x, name, req_sizes):
    sizes = " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{op}: {name} should be a sequence of length {sizes}, got {x!r}")
    if len(x) not in req_sizes:
        raise ValueError(f"{op}: {name} should be a sequence of length {sizes}, got {x!r}")


def _setup_angle(op, x, name, req_sizes=(2,)):
    """[-x, x] for a number x >= 0, else the sequence as floats."""
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"{op}: if {name} is a single number, it must be positive, got {x}")
        x = [-x, x]
    else:
        _check_sequence(op, x, name, req_sizes)
    return [float(d) for d in x]


def _check_fill(op, fill):
    if fill is None:
        return 0
    if not isinstance(fill, (numbers.Number, list, tuple)):
        raise TypeError(f"{op}: fill should be either a sequence or a number, got {fill!r}")
    return fill


def _fill_for(img, fill):
    """A tensor image takes one fill value per channel (torchvision's forward does the same)."""
    if not isinstance(img, Tensor):
        return fill
    if isinstance(fill, numbers.Number):
        return [float(fill)] * F.get_dimensions(img)[0]
    return [float(f) for f in fill]


class _Transform:
    """forward() does the work; calling the transform calls it (as an nn.Module would)."""

    def __call__(self, img):
        return self.forward(img)

    def forward(self, img):
        raise NotImplementedError(f"{type(self).__name__} must implement forward")


# ---- deterministic geometry -----------------------------------------------------------------------------

class Resize(_Transform):
    """Resize to `size`: an int matches the smaller edge (aspect ratio kept, longer edge at most
    max_size); (h, w) is exact. Bilinear by default; tensors antialiased like PIL."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        F.check_resize_size("Resize", size, max_size)
        self.size = size
        self.max_size = max_size
        self.interpolation = F.interpolation_mode("Resize", interpolation)
        self.antialias = antialias

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(_Transform):
    """Crop the centre to size (h, w) (an int: square); pads with zeros when larger than the image."""

    def __init__(self, size):
        self.size = _setup_size("CenterCrop", size)

    def forward(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size})"


class Pad(_Transform):
    """Pad the borders by `padding` (int, (left/right, top/bottom) or (l, t, r, b))."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError(f"Pad: got inappropriate padding arg {padding!r}")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError(f"Pad: got inappropriate fill arg {fill!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"Pad: padding mode should be either constant, edge, reflect or symmetric, got "
                             f"{padding_mode!r}")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Pad: padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} "
                             f"element tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class Grayscale(_Transform):
    """To grey (luma), with 1 or 3 output channels."""

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self):
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


# ---- conversions ----------------------------------------------------------------------------------------

class ToPILImage:
    """Tensor (C x H x W) or array (H x W x C) -> PIL image (see functional.to_pil_image)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"{type(self).__name__}(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


class PILToTensor:
    """PIL image -> C x H x W tensor of the unscaled values (bytes as int64 0-255)."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ConvertImageDtype(_Transform):
    """Convert an image tensor to `dtype`, rescaling between float [0, 1] and bytes 0-255."""

    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)

    def __repr__(self):
        return f"{type(self).__name__}(dtype={self.dtype})"


# ---- random -------------------------------------------------------------------------------------------

class RandomHorizontalFlip(_Transform):
    """Mirror left-right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def forward(self, img):
        return F.hflip(img) if rand(1).item() < self.p else img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(_Transform):
    """Mirror top-bottom with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def forward(self, img):
        return F.vflip(img) if rand(1).item() < self.p else img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomApply(_Transform):
    """Apply the list of transforms, all or none, with probability p."""

    def __init__(self, transforms, p=0.5):
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < rand(1).item():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{inner}\n)"


class RandomCrop(_Transform):
    """Crop a random size (h, w) region, after optional `padding` (see Pad); pad_if_needed pads
    an image smaller than size on both sides by the shortfall."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _setup_size("RandomCrop", size)
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(img, output_size):
        """(top, left, height, width) of a random crop of output_size (h, w)."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        i = _randint(0, h - th + 1)
        j = _randint(0, w - tw + 1)
        return i, j, th, tw

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self):
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomResizedCrop(_Transform):
    """A crop of random area (fraction `scale` of the image) and aspect ratio (`ratio`),
    resized to `size`."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation=InterpolationMode.BILINEAR,
                 antialias=True):
        self.size = _setup_size("RandomResizedCrop", size)
        if not isinstance(scale, (list, tuple)):
            raise TypeError(f"RandomResizedCrop: scale should be a sequence, got {scale!r}")
        if not isinstance(ratio, (list, tuple)):
            raise TypeError(f"RandomResizedCrop: ratio should be a sequence, got {ratio!r}")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("RandomResizedCrop: scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = F.interpolation_mode("RandomResizedCrop", interpolation)
        self.antialias, self.scale, self.ratio = antialias, scale, ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, height, width): up to 10 tries of a random area and log-uniform aspect
        ratio that fit, else the whole image clipped to the ratio range, centred."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return _randint(0, height - h + 1), _randint(0, width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")


class RandomRotation(_Transform):
    """Rotate by an angle drawn uniformly from `degrees` ((-d, d) for a number d)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0):
        self.degrees = _setup_angle("RandomRotation", degrees, "degrees", (2,))
        if center is not None:
            _check_sequence("RandomRotation", center, "center", (2,))
        self.interpolation = F.interpolation_mode("RandomRotation", interpolation)
        self.expand, self.center, self.fill = expand, center, _check_fill("RandomRotation", fill)

    @staticmethod
    def get_params(degrees):
        return _uniform(float(degrees[0]), float(degrees[1]))

    def forward(self, img):
        angle = self.get_params(self.degrees)
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, _fill_for(img, self.fill))

    def __repr__(self):
        extra = (f", center={self.center}" if self.center is not None else "") + \
            (f", fill={self.fill}" if self.fill is not None else "")
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}{extra})")


class RandomAffine(_Transform):
    """A random affine map about the centre: angle from `degrees`, translation up to
    translate = (fx, fy) of the width and height, scale from (lo, hi), shear in degrees
    (a number s: x in (-s, s); 2 values: x range; 4: x and y ranges)."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None):
        op = "RandomAffine"
        self.degrees = _setup_angle(op, degrees, "degrees", (2,))
        if translate is not None:
            _check_sequence(op, translate, "translate", (2,))
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError(f"{op}: translation values should be between 0 and 1, got {translate}")
        if scale is not None:
            _check_sequence(op, scale, "scale", (2,))
            if any(s <= 0 for s in scale):
                raise ValueError(f"{op}: scale values should be positive, got {scale}")
        self.shear = _setup_angle(op, shear, "shear", (2, 4)) if shear is not None else None
        if center is not None:
            _check_sequence(op, center, "center", (2,))
        self.translate, self.scale, self.center = translate, scale, center
        self.interpolation = F.interpolation_mode(op, interpolation)
        self.fill = _check_fill(op, fill)

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) for an image of img_size = [width, height]."""
        angle = _uniform(float(degrees[0]), float(degrees[1]))
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            translations = (int(round(_uniform(-max_dx, max_dx))), int(round(_uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def forward(self, img):
        _, height, width = F.get_dimensions(img)
        params = self.get_params(self.degrees, self.translate, self.scale, self.shear, [width, height])
        return F.affine(img, *params, interpolation=self.interpolation, fill=_fill_for(img, self.fill),
                        center=self.center)

    def __repr__(self):
        parts = [f"degrees={self.degrees}"]
        for name in ("translate", "scale", "shear"):
            if getattr(self, name) is not None:
                parts.append(f"{name}={getattr(self, name)}")
        if self.interpolation != InterpolationMode.NEAREST:
            parts.append(f"interpolation={self.interpolation.value}")
        if self.fill != 0:
            parts.append(f"fill={self.fill}")
        if self.center is not None:
            parts.append(f"center={self.center}")
        return f"{type(self).__name__}({', '.join(parts)})"
