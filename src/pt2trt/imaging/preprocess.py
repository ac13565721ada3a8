"""Image preprocessing as data: how a picture becomes the model's input tensor, and how to map results back.

A :class:`Preprocess` is a small record (resize mode, size, pad value, scale, mean/std, channel order, layout,
dtype). It is written into the ONNX metadata at export (``pt2trt.preprocessing``), read from a preset name or a
YAML file, or built from ``predict`` flags. :meth:`Preprocess.apply` turns one PIL image into one input sample
and a :class:`Transform` that maps input-pixel coordinates back to the original image.

Resize modes:

* ``stretch`` – resize to the input size, ignoring the aspect ratio;
* ``letterbox`` – keep the aspect ratio, fit inside the input size, pad the rest with ``pad_value`` (centred);
* ``crop`` – resize the shorter side to ``size / crop_fraction``, then take the centre ``size`` crop;
* ``none`` – the image must already have the input size.

Each preset reproduces its reference to within 1/255 per pixel: ``imagenet-classification`` is torchvision's eval
transform ``Resize(256) + CenterCrop(224)`` (antialiased bilinear, the long side truncated as
``int(256 * long / short)``, crop offsets ``int(round((size - 224) / 2))``); ``yolo-letterbox-640`` is ultralytics'
``LetterBox`` (OpenCV's bilinear without antialiasing, ``antialias=False``). Channels are ``RGB``/``BGR``, or ``L``
(grayscale) and ``RGBA`` for models that take 1 or 4 channels.

Pixels are ``(value * scale - mean) / std`` per channel, so ``mean``/``std`` are in scaled units (ImageNet's
0.485... with ``scale`` 1/255).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pt2trt.errors import Pt2trtError, UsageError

if TYPE_CHECKING:
    from PIL import Image

RESIZE_MODES = ("stretch", "letterbox", "crop", "none")
CHANNEL_ORDERS = ("RGB", "BGR", "L", "RGBA")
LAYOUTS = ("NCHW", "NHWC")
DTYPES = ("float32", "float16", "uint8")

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: The largest side of a model input that predict will resize a picture to.
MAX_SIDE = 16384


@dataclass(frozen=True)
class Transform:
    """Where one original image sits in the model input: ``input = original * scale + offset`` per axis.

    ``scale`` and ``offset`` are ``(x, y)``; sizes are ``(width, height)``.
    """

    original_size: tuple[int, int]
    input_size: tuple[int, int]
    scale: tuple[float, float] = (1.0, 1.0)
    offset: tuple[float, float] = (0.0, 0.0)

    @classmethod
    def identity(cls, width: int, height: int) -> Transform:
        return cls((width, height), (width, height))

    def on_grid(self, width: int, height: int) -> Transform:
        """The same placement on a ``width x height`` grid covering the input (e.g. a stride-8 output)."""
        fx, fy = width / self.input_size[0], height / self.input_size[1]
        return Transform(
            self.original_size,
            (width, height),
            (self.scale[0] * fx, self.scale[1] * fy),
            (self.offset[0] * fx, self.offset[1] * fy),
        )

    def boxes_to_original(self, boxes: np.ndarray) -> np.ndarray:
        """``[K, 4]`` x1,y1,x2,y2 boxes in input pixels -> original pixels, clipped to the image."""
        out = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
        sx, sy = self.scale
        ox, oy = self.offset
        out[:, [0, 2]] = (out[:, [0, 2]] - ox) / sx
        out[:, [1, 3]] = (out[:, [1, 3]] - oy) / sy
        w, h = self.original_size
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, w)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, h)
        return out

    def mask_to_original(self, mask: np.ndarray, fill: int = 0) -> np.ndarray:
        """A ``[..., H_in, W_in]`` mask sampled (nearest, at pixel centres) onto the original ``[..., h, w]`` grid.

        Original pixels that fall outside the input (cropped away) get ``fill``.
        """
        w, h = self.original_size
        sx, sy = self.scale
        ox, oy = self.offset
        cols = np.floor((np.arange(w) + 0.5) * sx + ox).astype(np.int64)
        rows = np.floor((np.arange(h) + 0.5) * sy + oy).astype(np.int64)
        in_h, in_w = mask.shape[-2:]
        col_ok = (cols >= 0) & (cols < in_w)
        row_ok = (rows >= 0) & (rows < in_h)
        out = mask[..., rows.clip(0, in_h - 1)[:, None], cols.clip(0, in_w - 1)[None, :]]
        if not (col_ok.all() and row_ok.all()):
            out = out.copy()
            out[..., ~(row_ok[:, None] & col_ok[None, :])] = fill
        return out


@dataclass(frozen=True)
class Preprocess:
    """How images become input tensors (see the module docstring)."""

    resize: str = "stretch"
    size: tuple[int, int] | None = None  # (height, width); None: the model's input size
    crop_fraction: float = 0.875
    pad_value: int = 114
    scale: float = 1 / 255
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    channels: str = "RGB"
    layout: str = "NCHW"
    dtype: str = "float32"
    antialias: bool = True  # PIL/torchvision's bilinear; False: OpenCV's (ultralytics)
    preset: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _choice("resize", self.resize, RESIZE_MODES)
        _choice("channels", self.channels, CHANNEL_ORDERS)
        _choice("layout", self.layout, LAYOUTS)
        _choice("dtype", self.dtype, DTYPES)
        if self.size is not None and (len(self.size) != 2 or min(self.size) < 1):
            raise UsageError(f"preprocessing size {self.size} is not HEIGHTxWIDTH", "Use e.g. size: [224, 224]")
        if not 0 < self.crop_fraction <= 1:
            raise UsageError(
                f"crop_fraction {self.crop_fraction} must be in (0, 1]",
                "Pass a crop fraction above 0 and at most 1, e.g. 0.875",
            )
        if len(self.mean) != 3 or len(self.std) != 3 or any(s == 0 for s in self.std):
            raise UsageError("mean and std need 3 values each (std non-zero)", "e.g. mean: [0.485, 0.456, 0.406]")
        if not 0 <= self.pad_value <= 255:
            raise UsageError(
                f"pad_value {self.pad_value} is not a pixel value 0-255", "Pass a pad value from 0 to 255, e.g. 114"
            )

    # -- serialisation ---------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["size"] = list(self.size) if self.size else None
        d["mean"], d["std"] = list(self.mean), list(self.std)
        if d["preset"] is None:
            del d["preset"]
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "preprocessing") -> Preprocess:
        if not isinstance(data, dict):
            raise UsageError(
                f"{where} must be a mapping of settings, got {type(data).__name__}",
                "Write the settings as a YAML mapping of name: value",
            )
        preset = data.get("preset")
        if preset is not None and preset not in PRESETS:
            raise UsageError(f"{where} names unknown preset '{preset}'", f"Use one of: {', '.join(PRESETS)}")
        base = PRESETS[preset] if preset is not None else cls()
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"{where} has unknown setting(s) {', '.join(unknown)}", f"Known: {', '.join(known)}")
        values: dict[str, Any] = {}
        try:
            for key, value in data.items():
                if key == "size":
                    values[key] = parse_size(value) if value is not None else None
                elif key in ("mean", "std"):
                    values[key] = tuple(float(v) for v in value)
                elif key == "scale":
                    values[key] = parse_number(value)
                elif key in ("crop_fraction",):
                    values[key] = float(value)
                elif key == "pad_value":
                    values[key] = int(value)
                elif key in ("channels", "layout"):
                    values[key] = str(value).upper()
                elif key == "antialias":
                    values[key] = bool(value)
                else:
                    values[key] = value
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"{where}: bad value for '{key}': {value!r}",
                "Check the value against `pt2trt predict --help` (the preprocessing options)",
            ) from exc
        return replace(base, **values)

    @classmethod
    def from_json(cls, text: str) -> Preprocess:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Pt2trtError(
                f"recorded preprocessing is not JSON: {text[:80]}",
                "Re-export the model, or pass --preprocess PRESET|FILE.yaml",
            ) from exc
        return cls.from_dict(data, "recorded preprocessing")

    def with_size(self, height: int, width: int) -> Preprocess:
        if not (0 < int(height) <= MAX_SIDE and 0 < int(width) <= MAX_SIDE):
            raise Pt2trtError(
                f"input size {height}x{width} is not a picture size (1 to {MAX_SIDE} pixels a side)",
                "Pass --size HxW (the model's input dims may be wrong or dynamic)",
            )
        return replace(self, size=(int(height), int(width)))

    # -- applying ----------------------------------------------------------------------------------------------
    def apply(self, image: Image.Image) -> tuple[np.ndarray, Transform]:
        """One RGB PIL image -> one input sample (``CHW`` or ``HWC``) and its :class:`Transform`.

        Coordinates map back to ``image.info["original_size"]`` when the image was decoded at reduced size
        (JPEG draft mode), else to the image's own size.
        """
        from PIL import Image

        if self.size is None:
            raise UsageError("preprocessing has no input size", "Give --size HxW or a model with a static input size")
        w, h = image.info.get("original_size", image.size)
        height, width = self.size
        new, scale, offset = self.geometry(w, h)
        if self.resize == "none" and image.size != (width, height):
            raise Pt2trtError(
                f"image is {w}x{h} but the model input is {width}x{height} and resize is 'none'",
                "Choose --resize stretch, letterbox or crop",
            )
        image = image.convert(_PIL_MODES[self.channels]) if image.mode != _PIL_MODES[self.channels] else image
        if self.resize == "crop":  # torchvision: resize the whole picture, then crop (exactly its pixels)
            image = _resize(image, new, self.antialias)
            left, top = int(-offset[0]), int(-offset[1])
            image = image.crop((left, top, left + width, top + height))
        elif new != image.size:
            image = _resize(image, new, self.antialias)
        if self.resize == "letterbox" and new != (width, height):
            canvas = Image.new(image.mode, (width, height), (self.pad_value,) * len(image.getbands()))
            canvas.paste(image, (int(offset[0]), int(offset[1])))
            image = canvas
        pixels = np.asarray(image)
        if pixels.ndim == 2:
            pixels = pixels[..., None]
        if self.channels == "BGR":
            pixels = pixels[..., ::-1]
        if self.layout == "NCHW":
            pixels = pixels.transpose(2, 0, 1)
        sample = self._normalise(pixels)
        return sample, Transform((w, h), (width, height), scale, offset)

    def geometry(self, w: int, h: int) -> tuple[tuple[int, int], tuple[float, float], tuple[float, float]]:
        """For a ``w x h`` image: the size it is resized to, and the input's ``scale`` and ``offset`` (x, y)."""
        if self.size is None:
            raise UsageError("preprocessing has no input size", "Give --size HxW or a model with a static input size")
        height, width = self.size
        if self.resize == "stretch":
            return (width, height), (width / w, height / h), (0.0, 0.0)
        if self.resize == "letterbox":
            r = min(width / w, height / h)
            new = (max(1, round(w * r)), max(1, round(h * r)))
            left, top = (width - new[0]) // 2, (height - new[1]) // 2
            return new, (new[0] / w, new[1] / h), (float(left), float(top))
        if self.resize == "crop":
            # torchvision Resize(short) + CenterCrop(size): the long side truncated, the crop offset rounded
            short = round(min(height, width) / self.crop_fraction)
            new = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
            new = (max(width, new[0]), max(height, new[1]))
            left, top = round((new[0] - width) / 2), round((new[1] - height) / 2)
            return new, (new[0] / w, new[1] / h), (-float(left), -float(top))
        return (w, h), (1.0, 1.0), (0.0, 0.0)

    def _normalise(self, pixels: np.ndarray) -> np.ndarray:
        if self.dtype == "uint8":
            return np.ascontiguousarray(pixels)
        # one fused multiply-add: (p * scale - mean) / std = p * (scale / std) - mean / std
        channels = len(self.channels)  # "L" 1, "RGB"/"BGR" 3, "RGBA" 4 (alpha kept as scaled, mean 0, std 1)
        mean = np.asarray((*self.mean, 0.0)[:channels] if channels != 1 else self.mean[:1], np.float32)
        std = np.asarray((*self.std, 1.0)[:channels] if channels != 1 else self.std[:1], np.float32)
        gain = np.float32(self.scale) / std
        bias = -mean / std
        shape = (channels, 1, 1) if self.layout == "NCHW" else (1, 1, channels)
        out = np.empty(pixels.shape, np.float32)
        np.multiply(pixels, gain.reshape(shape), out=out, casting="unsafe")
        out += bias.reshape(shape)
        return out if self.dtype == "float32" else out.astype(self.dtype)

    def describe(self) -> str:
        size = "x".join(map(str, self.size)) if self.size else "model size"
        name = f"{self.preset}: " if self.preset else ""
        return f"{name}{self.resize} {size}, {self.channels} {self.layout} {self.dtype}"


_PIL_MODES = {"RGB": "RGB", "BGR": "RGB", "L": "L", "RGBA": "RGBA"}


def _resize(image: Image.Image, size: tuple[int, int], antialias: bool) -> Image.Image:
    """Bilinear resize to ``size`` (width, height): PIL's antialiased filter (torchvision's on PIL images), or
    OpenCV's ``INTER_LINEAR`` (half-pixel centres, no antialiasing; ultralytics' letterbox) in numpy."""
    from PIL import Image

    if antialias or size == image.size:
        return image.resize(size, Image.Resampling.BILINEAR)
    src = np.asarray(image, dtype=np.float32)
    rows, row_w = _linear_taps(image.size[1], size[1])
    cols, col_w = _linear_taps(image.size[0], size[0])
    top = src[rows[0]] * (1 - row_w)[:, None, None] if src.ndim == 3 else src[rows[0]] * (1 - row_w)[:, None]
    bottom = src[rows[1]] * row_w[:, None, None] if src.ndim == 3 else src[rows[1]] * row_w[:, None]
    mixed = top + bottom
    out = mixed[:, cols[0]] * _expand(1 - col_w, mixed.ndim) + mixed[:, cols[1]] * _expand(col_w, mixed.ndim)
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8), image.mode)


def _linear_taps(source: int, target: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """The two source indices and the weight of the second for each target index (OpenCV's coordinate rule)."""
    pos = (np.arange(target, dtype=np.float64) + 0.5) * (source / target) - 0.5
    low = np.floor(pos)
    weight = (pos - low).astype(np.float32)
    low = low.astype(np.int64)
    weight[low < 0] = 0
    low = low.clip(0, source - 1)
    high = (low + 1).clip(max=source - 1)
    return (low, high), weight


def _expand(weights: np.ndarray, ndim: int) -> np.ndarray:
    return weights[None, :, None] if ndim == 3 else weights[None, :]


def parse_size(value: Any) -> tuple[int, int]:
    """``224`` / ``"224"`` / ``"480x640"`` / ``[480, 640]`` -> ``(height, width)``."""
    if isinstance(value, int | float):
        return int(value), int(value)
    if isinstance(value, list | tuple) and len(value) == 2:
        return int(value[0]), int(value[1])
    text = str(value).lower().replace(",", "x")
    parts = text.split("x")
    try:
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise UsageError(f"malformed size '{value}'", "Write HEIGHTxWIDTH, e.g. 480x640, or one number for a square")


def load_preprocess(text: str | Path) -> Preprocess:
    """A preset name or a YAML/JSON file (a mapping of settings; ``preset: NAME`` starts from that preset)."""
    name = str(text)
    if name in PRESETS:
        return PRESETS[name]
    path = Path(name)
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise UsageError(f"unknown preprocessing preset '{name}'", f"Use one of: {', '.join(PRESETS)}, or a .yaml file")
    if not path.is_file():
        raise Pt2trtError(f"preprocessing file not found: {path}", "Check the path of the --preprocess file")
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise Pt2trtError(
            f"cannot parse {path} as YAML: {str(exc).splitlines()[0]}", "Fix the YAML syntax (indentation, colons)"
        ) from exc
    if isinstance(data, dict) and isinstance(data.get("preprocess"), dict):
        data = data["preprocess"]
    return Preprocess.from_dict(data, str(path))


def _choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"unknown preprocessing {what} '{value}'", f"Use one of: {', '.join(choices)}")


def parse_number(value: Any) -> float:
    """A float, or a fraction written ``1/255``."""
    if isinstance(value, str) and "/" in value:
        num, _, den = value.partition("/")
        return float(num) / float(den)
    return float(value)


PRESETS: dict[str, Preprocess] = {
    "imagenet-classification": Preprocess(
        resize="crop", size=(224, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD, preset="imagenet-classification"
    ),
    "imagenet-segmentation": Preprocess(
        resize="stretch", size=(520, 520), mean=IMAGENET_MEAN, std=IMAGENET_STD, preset="imagenet-segmentation"
    ),
    "yolo-letterbox-640": Preprocess(
        resize="letterbox", size=(640, 640), pad_value=114, antialias=False, preset="yolo-letterbox-640"
    ),
    "torchvision-detection": Preprocess(resize="stretch", size=(320, 320), preset="torchvision-detection"),
}
