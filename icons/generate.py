#!/usr/bin/env python3
"""Regenerates every icon Tauri bundles need from icons/source.svg.

Needs rsvg-convert (librsvg2-bin) and Pillow. Run from anywhere:
    python3 icons/generate.py
"""
import io
import pathlib
import subprocess

from PIL import Image

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE / "source.svg"


def render(size: int) -> Image.Image:
    # Rasterise each size from the vector source: sharper than downscaling one bitmap.
    png = subprocess.run(
        ["rsvg-convert", "-w", str(size), "-h", str(size), str(SOURCE)],
        check=True,
        capture_output=True,
    ).stdout
    return Image.open(io.BytesIO(png)).convert("RGBA")


def main() -> None:
    pngs = {
        "32x32.png": 32,
        "64x64.png": 64,
        "128x128.png": 128,
        "128x128@2x.png": 256,
        "icon.png": 512,
        # Windows Store / MSIX logos
        "Square30x30Logo.png": 30,
        "Square44x44Logo.png": 44,
        "Square71x71Logo.png": 71,
        "Square89x89Logo.png": 89,
        "Square107x107Logo.png": 107,
        "Square142x142Logo.png": 142,
        "Square150x150Logo.png": 150,
        "Square284x284Logo.png": 284,
        "Square310x310Logo.png": 310,
        "StoreLogo.png": 50,
    }
    for name, size in pngs.items():
        render(size).save(HERE / name, optimize=True)

    ico_sizes = [16, 24, 32, 48, 64, 128, 256]
    render(256).save(HERE / "icon.ico", sizes=[(s, s) for s in ico_sizes])

    big = render(1024)
    big.save(HERE / "icon.icns", append_images=[render(s) for s in (16, 32, 64, 128, 256, 512)])

    ui_public = HERE.parent / "ui" / "public"
    ui_public.mkdir(exist_ok=True)
    (ui_public / "kaito.svg").write_text(SOURCE.read_text())


if __name__ == "__main__":
    main()
