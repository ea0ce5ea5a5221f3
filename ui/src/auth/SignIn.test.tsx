import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { SignIn } from './SignIn.tsx';

describe('SignIn', () => {
  afterEach(cleanup);
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('shows the server’s reason when the token is refused', async () => {
    globalThis.fetch = (async () =>
      new Response(
        JSON.stringify({
          code: 'INGOT_UNAUTHENTICATED',
          message: 'the bearer token is unknown, revoked or expired',
          details: {},
        }),
        { status: 401 },
      )) as typeof fetch;
    render(<SignIn onSignedIn={() => assert.fail('should not sign in')} />);
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: 'ingot_wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    // The first render of the file also loads the console's modules: slow on a busy machine.
    await waitFor(
      () => assert.match(screen.getByRole('alert').textContent ?? '', /unknown, revoked or expired/),
      { timeout: 10_000 },
    );
  });

  it('signs in with who the token is', async () => {
    globalThis.fetch = (async () =>
      new Response(JSON.stringify({ id: 't1', name: 'ops', role: 'operator' }), {
        status: 200,
      })) as typeof fetch;
    let who = '';
    render(<SignIn onSignedIn={(_c, me) => (who = `${me.name}/${me.role}`)} />);
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: ' ingot_ok ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => assert.equal(who, 'ops/operator'), { timeout: 10_000 });
  });
});
