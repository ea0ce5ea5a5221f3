/**
 * The SessionService routes of the virtual BMC (DSP0266 §13.3): the service, the collection,
 * login (POST, no credentials needed beyond the body) and logout (DELETE).
 */
import { R, collection } from './resources.ts';
import { errorReply, type Reply } from './routes.ts';
import type { Session, SessionStore } from './sessions.ts';

export function sessionRoute(
  sessions: SessionStore,
  enabled: boolean,
  req: { method: string; sub: string; body: unknown; session: Session | null },
): Reply {
  const { method, sub, body, session } = req;
  const base = `${R}/SessionService`;
  if (sub === '/SessionService' && method === 'GET')
    return {
      status: 200,
      body: {
        '@odata.type': '#SessionService.v1_1_8.SessionService',
        '@odata.id': base,
        Id: 'SessionService',
        Name: 'Session service',
        ServiceEnabled: true,
        SessionTimeout: 1800,
        Sessions: { '@odata.id': `${base}/Sessions` },
      },
    };
  if (sub === '/SessionService/Sessions' && method === 'GET')
    return {
      status: 200,
      body: collection(
        'SessionCollection',
        `${base}/Sessions`,
        sessions.ids().map((id) => `${base}/Sessions/${id}`),
      ),
    };
  if (!enabled)
    return errorReply(
      404,
      'ResourceMissingAtURI',
      `The resource at the URI ${R}${sub} was not found.`,
      'Use basic authentication.',
      [`${R}${sub}`],
    );
  if (sub === '/SessionService/Sessions' && method === 'POST') {
    const b = (body ?? {}) as Record<string, unknown>;
    if (!sessions.checkCredentials(b.UserName, b.Password))
      return errorReply(
        401,
        'InsufficientPrivilege',
        'The user name or password is not valid.',
        'Log in with valid credentials.',
      );
    const s = sessions.create(String(b.UserName));
    const loc = `${base}/Sessions/${s.id}`;
    return { status: 201, body: sessionBody(s, loc), headers: { 'X-Auth-Token': s.token, Location: loc } };
  }
  const m = /^\/SessionService\/Sessions\/([^/]+)$/.exec(sub);
  const s = m ? sessions.get(m[1]) : undefined;
  if (!m || !s)
    return errorReply(
      404,
      'ResourceMissingAtURI',
      `The resource at the URI ${R}${sub} was not found.`,
      'Correct the URI and resubmit the request.',
      [`${R}${sub}`],
    );
  if (method === 'GET') return { status: 200, body: sessionBody(s, `${base}/Sessions/${s.id}`) };
  if (method === 'DELETE') {
    // A session may delete itself; basic-auth callers (admins) may delete any.
    if (session && session.id !== s.id)
      return errorReply(
        403,
        'InsufficientPrivilege',
        'A session can only delete itself.',
        'Delete your own session.',
      );
    sessions.delete(s.id);
    return { status: 204 };
  }
  return errorReply(
    405,
    'OperationNotAllowed',
    `${method} is not allowed on ${R}${sub}.`,
    'Use GET or DELETE.',
  );
}
function sessionBody(s: Session, path: string): Record<string, unknown> {
  return {
    '@odata.type': '#Session.v1_3_0.Session',
    '@odata.id': path,
    Id: s.id,
    Name: `Session ${s.id}`,
    UserName: s.userName,
  };
}
