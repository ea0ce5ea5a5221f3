/**
 * Where the console keeps the token: this tab only (sessionStorage) unless the operator asks
 * to be remembered on this browser (localStorage).
 */
const KEY = 'ingot.token';

export function loadToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string, remember: boolean): void {
  try {
    sessionStorage.setItem(KEY, token);
    if (remember) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    // storage disabled: the session lasts until reload
  }
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}
