"""A small module that the VS Code tests open and type into."""

import math


def circle_area(radius):
    return math.pi * radius ** 2


def main():
    values = [1, 2, 3]
