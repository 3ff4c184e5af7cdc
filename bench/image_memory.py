"""Peak memory of one process re-encoding huge-pixel photos at once, with and without the decode guard.

    .venv/bin/python bench/image_memory.py [--uploads 4] [--side 6324]

Each run is a fresh process (DJANGO_DEBUG=1 settings) in which `--uploads` threads
store the same small-file, huge-pixel PNG through liveupdates.images.store at
once; it prints the process's peak resident memory (VmHWM) and wall time for
NEWSROOM_IMAGE_DECODES=1 (the default) and for as many slots as uploads (no guard).
"""

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import io, sys, tempfile, threading, time
import django
django.setup()
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from liveupdates import images
data = open(sys.argv[1], "rb").read()
storage = FileSystemStorage(location=tempfile.mkdtemp())
def status(field):  # VmHWM is this process's own peak (ru_maxrss keeps the parent's across fork and exec)
    return int(next(line for line in open("/proc/self/status") if line.startswith(field)).split()[1])
before = status("VmHWM:")
errors = []
def upload():
    try:
        images.store(storage, "bench", SimpleUploadedFile("huge.png", data, content_type="image/png"))
    except Exception as error:
        errors.append(repr(error))
threads = [threading.Thread(target=upload) for _ in range(int(sys.argv[2]))]
start = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
if errors:
    sys.exit("uploads failed: " + "; ".join(errors))
print(before // 1024, status("VmHWM:") // 1024, round(time.monotonic() - start, 1))
"""


def huge_png(side):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (side, side), (200, 30, 30)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def run(path, uploads, slots):
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "newsroom.settings", "NEWSROOM_IMAGE_DECODES": str(slots)}
    out = subprocess.run([sys.executable, "-c", CHILD, path, str(uploads)], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return [float(x) for x in out.stdout.split()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=4)
    parser.add_argument("--side", type=int, default=6324)
    args = parser.parse_args()
    data = huge_png(args.side)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"huge-{args.side}.png"
    path.write_bytes(data)
    print(f"{args.side}x{args.side} PNG, {len(data) // 1024} KB, {args.uploads} uploads at once in one process")
    for slots in (1, args.uploads):
        start, peak, wall = run(str(path), args.uploads, slots)
        label = "guard (1 decode at a time)" if slots == 1 else f"no guard ({slots} at once)"
        print(f"{label:30} start {start:.0f} MB, peak {peak:.0f} MB, {wall:.1f} s")
        time.sleep(1)


if __name__ == "__main__":
    main()
