"""TensorFlow's string fingerprints, reimplemented from the published algorithms.

- `fingerprint64(data)`: farmhash's `Fingerprint64` (the "na" variant of its
  64-bit hash), which TF's `StringToHashBucketFast` reduces modulo the bucket
  count and its `SparseCross` applies to string features;
- `fingerprint_cat64(fp1, fp2)`: TF's `FingerprintCat64`, the mix that
  `SparseCross` folds each feature's hash into, starting from `hash_key`.

All arithmetic is on Python ints masked to 64 bits. The values were checked
against TensorFlow 2.21 on strings of every length from 0 to 140 bytes and
longer ones (tests/fixtures/feature_column/).
"""
from __future__ import annotations

import functools

__all__ = ["fingerprint64", "fingerprint_cat64"]

_MASK = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F
_CAT_MUL = 0xC6A4A7935BD1E995


def _rotate(value: int, shift: int) -> int:
    return ((value >> shift) | (value << (64 - shift))) & _MASK


def _shift_mix(value: int) -> int:
    return value ^ (value >> 47)


def _load64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 8], "little")


def _load32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _hash_len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & _MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & _MASK
    b ^= b >> 47
    return (b * mul) & _MASK


def _hash_len0to16(data: bytes, n: int) -> int:
    if n >= 8:
        mul = _K2 + n * 2
        a = (_load64(data, 0) + _K2) & _MASK
        b = _load64(data, n - 8)
        c = (_rotate(b, 37) * mul + a) & _MASK
        d = ((_rotate(a, 25) + b) * mul) & _MASK
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _hash_len16(n + (_load32(data, 0) << 3), _load32(data, n - 4), mul)
    if n > 0:
        y = data[0] + (data[n >> 1] << 8)
        z = n + (data[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
    return _K2


def _hash_len17to32(data: bytes, n: int) -> int:
    mul = _K2 + n * 2
    a = (_load64(data, 0) * _K1) & _MASK
    b = _load64(data, 8)
    c = (_load64(data, n - 8) * mul) & _MASK
    d = (_load64(data, n - 16) * _K2) & _MASK
    return _hash_len16((_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK,
                       (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)


def _hash_len33to64(data: bytes, n: int) -> int:
    mul = _K2 + n * 2
    a = (_load64(data, 0) * _K2) & _MASK
    b = _load64(data, 8)
    c = (_load64(data, n - 8) * mul) & _MASK
    d = (_load64(data, n - 16) * _K2) & _MASK
    y = (_rotate((a + b) & _MASK, 43) + _rotate(c, 30) + d) & _MASK
    z = _hash_len16(y, (a + _rotate((b + _K2) & _MASK, 18) + c) & _MASK, mul)
    e = (_load64(data, 16) * mul) & _MASK
    f = _load64(data, 24)
    g = ((y + _load64(data, n - 32)) * mul) & _MASK
    h = ((z + _load64(data, n - 24)) * mul) & _MASK
    return _hash_len16((_rotate((e + f) & _MASK, 43) + _rotate(g, 30) + h) & _MASK,
                       (e + _rotate((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak_hash32(data: bytes, at: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = (_load64(data, at + k) for k in (0, 8, 16, 24))
    a = (a + w) & _MASK
    b = _rotate((b + a + z) & _MASK, 21)
    c = a
    a = (a + x + y) & _MASK
    b = (b + _rotate(a, 44)) & _MASK
    return (a + z) & _MASK, (b + c) & _MASK


def _hash_long(data: bytes, n: int) -> int:
    seed = 81
    y = (seed * _K1 + 113) & _MASK
    z = (_shift_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
    v0 = v1 = w0 = w1 = 0
    x = (seed * _K2 + _load64(data, 0)) & _MASK
    end = ((n - 1) // 64) * 64
    at = 0
    while True:
        x = (_rotate((x + y + v0 + _load64(data, at + 8)) & _MASK, 37) * _K1) & _MASK
        y = (_rotate((y + v1 + _load64(data, at + 48)) & _MASK, 42) * _K1) & _MASK
        x ^= w1
        y = (y + v0 + _load64(data, at + 40)) & _MASK
        z = (_rotate((z + w0) & _MASK, 33) * _K1) & _MASK
        v0, v1 = _weak_hash32(data, at, (v1 * _K1) & _MASK, (x + w0) & _MASK)
        w0, w1 = _weak_hash32(data, at + 32, (z + w1) & _MASK, (y + _load64(data, at + 16)) & _MASK)
        z, x = x, z
        at += 64
        if at == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    at = n - 64
    w0 = (w0 + ((n - 1) & 63)) & _MASK
    v0 = (v0 + w0) & _MASK
    w0 = (w0 + v0) & _MASK
    x = (_rotate((x + y + v0 + _load64(data, at + 8)) & _MASK, 37) * mul) & _MASK
    y = (_rotate((y + v1 + _load64(data, at + 48)) & _MASK, 42) * mul) & _MASK
    x ^= (w1 * 9) & _MASK
    y = (y + v0 * 9 + _load64(data, at + 40)) & _MASK
    z = (_rotate((z + w0) & _MASK, 33) * mul) & _MASK
    v0, v1 = _weak_hash32(data, at, (v1 * mul) & _MASK, (x + w0) & _MASK)
    w0, w1 = _weak_hash32(data, at + 32, (z + w1) & _MASK, (y + _load64(data, at + 16)) & _MASK)
    z, x = x, z
    return _hash_len16((_hash_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z) & _MASK,
                       (_hash_len16(v1, w1, mul) + x) & _MASK, mul)


@functools.lru_cache(maxsize=1 << 16)
def fingerprint64(data: bytes) -> int:
    """farmhash `Fingerprint64(data)` as an unsigned 64-bit Python int (TF's `Fingerprint64`).
    Categorical features repeat, so recent strings' fingerprints are cached."""
    n = len(data)
    if n <= 16:
        return _hash_len0to16(data, n)
    if n <= 32:
        return _hash_len17to32(data, n)
    if n <= 64:
        return _hash_len33to64(data, n)
    return _hash_long(data, n)


def fingerprint_cat64(fp1: int, fp2: int) -> int:
    """TF's `FingerprintCat64(fp1, fp2)`: combines two 64-bit fingerprints, order-dependent."""
    result = fp1 ^ _CAT_MUL
    result ^= (_shift_mix((fp2 * _CAT_MUL) & _MASK) * _CAT_MUL) & _MASK
    result = (result * _CAT_MUL) & _MASK
    result = (_shift_mix(result) * _CAT_MUL) & _MASK
    return _shift_mix(result)
