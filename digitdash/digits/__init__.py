"""Digits in: datasets decoded once, arrays, any picture made 28x28, strokes, uploads, digits made here."""
