"""Draw the application icon (a stylised mandible with a measurement line) as PNG sizes for the bundle
and the desktop entry. Drawn by code so the icon is reproducible and needs no binary in the repo."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent


def draw_icon(size: int) -> Image.Image:
    scale = size / 256
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([8 * scale, 8 * scale, 248 * scale, 248 * scale], radius=40 * scale, fill=(24, 52, 84, 255))
    # horseshoe-shaped mandible seen from below: an arc band
    box = [40 * scale, 40 * scale, 216 * scale, 236 * scale]
    draw.arc(box, start=200, end=340, fill=(236, 230, 214, 255), width=int(34 * scale))
    draw.arc(
        [box[0] + 17 * scale, box[1] + 17 * scale, box[2] - 17 * scale, box[3] - 17 * scale],
        start=200,
        end=340,
        fill=(190, 176, 150, 255),
        width=int(6 * scale),
    )
    # measurement line with end ticks
    draw.line([128 * scale, 150 * scale, 128 * scale, 210 * scale], fill=(255, 196, 0, 255), width=int(8 * scale))
    for y in (150, 210):
        draw.line([110 * scale, y * scale, 146 * scale, y * scale], fill=(255, 196, 0, 255), width=int(8 * scale))
    return image


def main() -> None:
    out = HERE / "icons"
    out.mkdir(exist_ok=True)
    for size in (256, 128, 64, 48, 32):
        name = "cbct-osteo.png" if size == 256 else f"cbct-osteo-{size}.png"
        draw_icon(size).save(out / name)


if __name__ == "__main__":
    main()
