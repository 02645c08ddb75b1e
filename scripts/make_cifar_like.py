#!/usr/bin/env python3
"""Write a synthetic data set in the CIFAR-10 (or CIFAR-100) binary format.

For tests, smoke runs and machines without the real files: the loader cannot tell
these files from the real ones, and a short training on them beats chance
clearly, so a run that learns nothing is a bug, not the data.

The format (the "binary version (suitable for C programs)" of
https://www.cs.toronto.edu/~kriz/cifar.html) is a plain sequence of records,
with no header:

  CIFAR-10:  <1 label byte 0..9> <3072 pixel bytes>                      3073 bytes
  CIFAR-100: <1 coarse label byte 0..19> <1 fine label byte 0..99>
             <3072 pixel bytes>                                           3074 bytes

The 3072 pixel bytes are one 32 x 32 image as three planes of 1024 bytes, red,
green, then blue, each row-major (row 0 first, left to right).

Files written into --out (the layout the official tarballs unpack to, so --out
can be data.root):

  CIFAR-10:   data_batch_1.bin .. data_batch_5.bin (the --train images, split
              evenly; the first files take one more when --train is not a
              multiple of 5) and test_batch.bin (--test images)
  CIFAR-100:  train.bin and test.bin; coarse label = fine label // 5

The images: every class has a fixed random pattern, a colour per channel plus a
sinusoidal stripe pattern of its own orientation, frequency and per-channel
weights. Each image is its class's pattern, shifted by a random 0..7 pixels in
each direction, plus a random brightness offset and per-pixel noise larger
than any one pixel's class signal. Classes are balanced (shuffled). So no
single pixel tells the classes apart, but the colour and the stripes do, for a
linear model partly and for a small CNN well.

Speed: the pixels are summed as big integers with one byte per pixel (no sum
exceeds 255, so no carry crosses into a neighbour), about 20 microseconds an
image: 60,000 images in a few seconds, with the standard library only.

Usage:
  python3 scripts/make_cifar_like.py --out datasets/cifar10 --train 50000 --test 10000
  python3 scripts/make_cifar_like.py --cifar100 --out datasets/cifar100 --train 5000 --test 1000
"""

import argparse
import math
import os
import random
import sys
import time

SIDE = 32
PIXELS = 3 * SIDE * SIDE
MAX_SHIFT = 8  # shifts 0..7 in each direction
FIELD = SIDE + MAX_SHIFT - 1  # a class pattern is drawn this large, then cut at a shift

# Byte budgets, so that no pixel sum exceeds 255 (the carry-free addition needs it):
# pattern 0..100, brightness 0..44, noise two halves of 0..55 each.
PATTERN_MAX = 100
BRIGHTNESS_LEVELS = 45
NOISE_HALF = bytes(v * 56 // 256 for v in range(256))  # a random byte -> 0..55
ONES = int.from_bytes(b"\x01" * PIXELS, "big")


def class_planes(rng):
    """One class's pattern: three FIELD x FIELD planes of bytes in 0..PATTERN_MAX."""
    theta = rng.uniform(0.0, math.pi)
    freq = rng.uniform(1.5, 4.0) * 2.0 * math.pi / SIDE  # 1.5 to 4 cycles per image
    phase = rng.uniform(0.0, 2.0 * math.pi)
    amplitude = rng.uniform(15.0, 30.0)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    wave = [
        math.sin(freq * (x * cos_t + y * sin_t) + phase)
        for y in range(FIELD)
        for x in range(FIELD)
    ]
    planes = []
    for _ in range(3):
        mean = rng.uniform(25.0, 75.0)
        weight = amplitude * rng.uniform(-1.0, 1.0)
        planes.append(
            bytes(min(PATTERN_MAX, max(0, int(round(mean + weight * w)))) for w in wave)
        )
    return planes


def shifted_patterns(planes):
    """The 32 x 32 cut of the planes at every shift, each as one big integer."""
    out = []
    for dy in range(MAX_SHIFT):
        for dx in range(MAX_SHIFT):
            buf = bytearray()
            for plane in planes:
                for y in range(dy, dy + SIDE):
                    start = y * FIELD + dx
                    buf += plane[start : start + SIDE]
            out.append(int.from_bytes(buf, "big"))
    return out


def random_bytes(rng, n):
    if hasattr(rng, "randbytes"):  # Python >= 3.9
        return rng.randbytes(n)
    return rng.getrandbits(8 * n).to_bytes(n, "little")


def records(rng, count, classes, patterns, cifar100):
    """`count` records as one bytes object, classes balanced and shuffled."""
    labels = [i % classes for i in range(count)]
    rng.shuffle(labels)
    brightness = [b * ONES for b in range(BRIGHTNESS_LEVELS)]
    out = bytearray()
    for label in labels:
        pattern = patterns[label][rng.randrange(len(patterns[label]))]
        noise = random_bytes(rng, 2 * PIXELS).translate(NOISE_HALF)
        value = (
            pattern
            + brightness[rng.randrange(BRIGHTNESS_LEVELS)]
            + int.from_bytes(noise[:PIXELS], "big")
            + int.from_bytes(noise[PIXELS:], "big")
        )
        if cifar100:
            out.append(label // 5)  # the coarse label: 20 superclasses of 5
        out.append(label)
        out += value.to_bytes(PIXELS, "big")
    return bytes(out)


def batch_sizes(total, batches):
    base, extra = divmod(total, batches)
    return [base + (1 if i < extra else 0) for i in range(batches)]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Write synthetic CIFAR-10/100 binary files (see the module docstring)."
    )
    parser.add_argument("--out", required=True, help="folder to write the .bin files into")
    parser.add_argument("--cifar100", action="store_true", help="CIFAR-100 format, 100 classes")
    parser.add_argument("--train", type=int, default=50000, help="training images (default 50000)")
    parser.add_argument("--test", type=int, default=10000, help="test images (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    # An empty file is not a valid CIFAR file: every file needs one record.
    min_train = 1 if args.cifar100 else 5
    if args.train < min_train:
        parser.error(f"--train must be at least {min_train} (one record per file)")
    if args.test < 1:
        parser.error("--test must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    start = time.time()
    classes = 100 if args.cifar100 else 10
    rng = random.Random(args.seed)
    patterns = [shifted_patterns(class_planes(rng)) for _ in range(classes)]
    if args.cifar100:
        files = [("train.bin", args.train), ("test.bin", args.test)]
    else:
        sizes = batch_sizes(args.train, 5)
        files = [(f"data_batch_{i + 1}.bin", n) for i, n in enumerate(sizes)]
        files.append(("test_batch.bin", args.test))
    os.makedirs(args.out, exist_ok=True)
    for name, count in files:
        path = os.path.join(args.out, name)
        with open(path, "wb") as f:
            f.write(records(rng, count, classes, patterns, args.cifar100))
        print(f"{path}: {count} images")
    print(f"{classes} classes, {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
