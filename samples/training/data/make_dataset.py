#!/usr/bin/env python3
"""Regenerate diabetes.csv deterministically (Python standard library only).

A small synthetic, diabetes-like tabular dataset: four numeric features and a binary
label drawn from a known logistic model plus noise, so that a linear classifier can
learn it well but not perfectly. Run: python3 make_dataset.py > diabetes.csv
"""
import math
import random
import sys


def main() -> None:
    rng = random.Random(20240607)
    out = sys.stdout
    out.write("glucose,bmi,age,blood_pressure,diabetic\n")
    for _ in range(300):
        glucose = rng.gauss(120, 30)
        bmi = rng.gauss(31, 6)
        age = min(80.0, max(21.0, rng.gauss(40, 12)))
        bp = rng.gauss(72, 12)
        z = 0.045 * (glucose - 120) + 0.11 * (bmi - 31) + 0.035 * (age - 40) + 0.01 * (bp - 72) - 0.4
        z += rng.gauss(0, 0.8)
        p = 1 / (1 + math.exp(-z))
        label = 1 if rng.random() < p else 0
        out.write(f"{glucose:.1f},{bmi:.1f},{age:.0f},{bp:.0f},{label}\n")


if __name__ == "__main__":
    main()
