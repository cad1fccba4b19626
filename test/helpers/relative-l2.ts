/** ||a - b|| / ||b||: the exactness measure the conversions must keep under 1e-4. No heavy imports, so the bench can use it too. */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}
