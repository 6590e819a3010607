/**
 * IEEE 754 half precision ↔ JS number. FP16 tensors hold raw uint16 bits (see dtype.ts); JSON
 * front ends (TFS REST, KServe REST) read and write them as numbers.
 */

/** The number a half-precision bit pattern stands for (exact: every half is a double). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Half bits for a number, rounded to nearest even; beyond the half range → ±Infinity, as a cast does. */
export function numberToHalfBits(value: number): number {
  if (value !== value) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  // 65520 is halfway between the largest half (65504) and 65536; the tie goes up to Infinity.
  if (a >= 65520) return sign | 0x7c00;
  // Subnormals count units of 2^-24; a result of 1024 is the smallest normal, whose bits are 0x400.
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  // All arithmetic here is exact (power-of-two scaling of a double); a carry to 2048 bumps the exponent.
  const m = roundHalfEven(a / 2 ** (e - 10));
  return sign | (((e + 15) << 10) + (m - 1024));
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
