/**
 * PLACEHOLDER until the world-aep branch lands its full invariants module (same API).
 * Finds every 8+ character piece of a secret in named texts.
 */
export interface SecretLeak { readonly text: string; readonly offset: number; readonly secretIndex: number }
export function findSecretLeaks(texts: Record<string, string> | string[], secrets: string[], minLength = 8): SecretLeak[] {
  const named: Record<string, string> = Array.isArray(texts) ? Object.fromEntries(texts.map((t, i) => [String(i), t])) : texts;
  const leaks: SecretLeak[] = [];
  secrets.forEach((secret, secretIndex) => {
    if (secret.length < minLength) return;
    for (const [name, text] of Object.entries(named)) {
      for (let i = 0; i + minLength <= secret.length; i++) {
        const offset = text.indexOf(secret.slice(i, i + minLength));
        if (offset >= 0) { leaks.push({ text: name, offset, secretIndex }); break; }
      }
    }
  });
  return leaks;
}
export function describeLeak(l: SecretLeak): string { return `secret #${l.secretIndex} leaks into ${l.text} at ${l.offset}`; }
