/**
 * Scopes are action names ('vision.objects') or patterns: '*' for every API, 'vision.*' for a family.
 * The list of actions is whatever routes declare; an app with no matching scope gets UnauthorizedOperation.
 */
export function scopeAllows(scopes: readonly string[], action: string): boolean {
  for (const scope of scopes) {
    if (scope === '*' || scope === action) return true;
    if (scope.endsWith('.*') && action.startsWith(scope.slice(0, -1))) return true;
  }
  return false;
}

export const scopePattern = '^(\\*|[a-z][a-z0-9-]*(\\.([a-z][a-z0-9-]*|\\*))?)$';
