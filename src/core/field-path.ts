/**
 * The field a JSON Schema validation error is about, as users write it: `/body/nics/0/mac` →
 * `nics[0].mac`, with the missing or unknown property appended (`bmc.password`). One reading
 * for the API's validation errors and the files Ingot reads (bundle manifests, cost models).
 */
export function fieldPathOf(v: { instancePath?: string; params?: Record<string, unknown> }): string {
  const path = (v.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  const extra = (v.params?.missingProperty ?? v.params?.additionalProperty) as string | undefined;
  return [path, extra].filter(Boolean).join('.').replace('.[', '[');
}
