// A stand-in for LAIN SSO (laincloud/sso), NOT the real server: a small HTTP server on 127.0.0.1 that answers the
// three requests console-auth makes, the way LAIN SSO answers them:
//   POST /oauth2/auth?client_id&response_type=code&scope&redirect_uri&state, form login/password:
//        302 to <redirect_uri>?code=<code>&state=<state> for a right password, 200 with the login page otherwise
//   GET /api/users/<user>: 200 {"name", "email", "groups": [the user's own groups]}, 404 "no such user"
//   GET /api/groups/<group>/members/<user>: 200 {"name", "role"} for a member, directly or through a member group
//        (LAIN makes its admin group a member of every app group), 404 otherwise
//   GET /api/groups/<group>: 200 {"name", "fullname", "members", "group_members"} for a group some user or group is
//        in, its fullname the group's name unless given (as SSO does for a group created without one), 404 otherwise
// It counts the requests per kind, so tests can prove what the console's cache saves.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';

export interface SsoStandinOptions {
  clientId: string;
  /** User name to password and the groups the user is directly in. */
  users: Record<string, { password: string; groups: string[] }>;
  /** Group name to the groups that are members of it. */
  groupMembers?: Record<string, string[]>;
  /** Group name to its fullname (LAIN's console wrote "lain app in <domain>: <app>" for an app's group). */
  fullnames?: Record<string, string>;
}

export type SsoRequestKind = 'auth' | 'user' | 'member' | 'group';

export interface SsoStandin {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Requests received per kind since the start (or the last resetCounts). */
  counts(): Record<SsoRequestKind, number>;
  resetCounts(): void;
  stop(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json', ...headers });
  res.end(payload);
}

export async function startSsoStandin(opts: SsoStandinOptions): Promise<SsoStandin> {
  const counts: Record<SsoRequestKind, number> = { auth: 0, user: 0, member: 0, group: 0 };

  // Direct groups, then the groups those are members of, transitively.
  const memberOf = (user: string, group: string): boolean => {
    const seen = new Set<string>();
    const pending = [...(opts.users[user]?.groups ?? [])];
    for (let g = pending.pop(); g !== undefined; g = pending.pop()) {
      if (g === group) return true;
      if (seen.has(g)) continue;
      seen.add(g);
      for (const [parent, members] of Object.entries(opts.groupMembers ?? {})) if (members.includes(g)) pending.push(parent);
    }
    return false;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sso.standin');
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    if (req.method === 'POST' && url.pathname === '/oauth2/auth') {
      counts.auth++;
      const form = new URLSearchParams(await text(req));
      const q = url.searchParams;
      if (q.get('client_id') !== opts.clientId || q.get('response_type') !== 'code' || !q.get('redirect_uri')) {
        return send(res, 400, { error: 'invalid_request' });
      }
      const user = opts.users[form.get('login') ?? ''];
      if (user === undefined || user.password !== form.get('password')) return send(res, 200, '<html><form method="post">login failed</form></html>');
      const target = new URL(q.get('redirect_uri')!);
      target.searchParams.set('code', randomUUID());
      target.searchParams.set('state', q.get('state') ?? '');
      return send(res, 302, '', { Location: target.toString() });
    }
    if (req.method === 'GET' && parts.length === 3 && parts[0] === 'api' && parts[1] === 'users') {
      counts.user++;
      const name = parts[2]!;
      const user = opts.users[name];
      if (user === undefined) return send(res, 404, 'no such user');
      return send(res, 200, { name, email: `${name}@example.com`, groups: user.groups });
    }
    if (req.method === 'GET' && parts.length === 5 && parts[0] === 'api' && parts[1] === 'groups' && parts[3] === 'members') {
      counts.member++;
      const [group, user] = [parts[2]!, parts[4]!];
      if (opts.users[user] === undefined || !memberOf(user, group)) return send(res, 404, 'not a member');
      return send(res, 200, { name: user, role: 'normal' });
    }
    if (req.method === 'GET' && parts.length === 3 && parts[0] === 'api' && parts[1] === 'groups') {
      counts.group++;
      const group = parts[2]!;
      const members = Object.entries(opts.users).filter(([, user]) => user.groups.includes(group)).map(([name]) => ({ name, role: 'normal' }));
      const groupMembers = (opts.groupMembers?.[group] ?? []).map((name) => ({ name, fullname: name, role: 'normal' }));
      const known = members.length > 0 || group in (opts.groupMembers ?? {}) || Object.values(opts.groupMembers ?? {}).some((g) => g.includes(group));
      if (!known) return send(res, 404, 'No such group');
      return send(res, 200, { name: group, fullname: opts.fullnames?.[group] ?? group, members, group_members: groupMembers });
    }
    send(res, 404, 'not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    resetCounts() {
      for (const kind of Object.keys(counts) as SsoRequestKind[]) counts[kind] = 0;
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
