import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConnectRefused, type CredentialBroker } from './broker.js';
import { SIGN_IN_CALLBACK, type BrowserSignIn } from './browser-sign-in.js';
import type { UserRef } from './store.js';
import { publicBaseUrl } from '../auth/public-url.js';
import type { Logger } from '../telemetry/logger.js';

const PREFIX = '/connect/';
const MAX_FORM_BYTES = 4096;

/** Validates the caller's bearer token for a provider's routes: the user, or null once a 401/403 was sent. */
export type BearerIdentifier = (provider: string, req: IncomingMessage, res: ServerResponse) => Promise<UserRef | null>;

/**
 * The browser side of connecting a provider, served on every listener before route matching:
 *
 *   GET    /connect/<provider>/start?link=…   confirmation page naming the account the link belongs to
 *   POST   /connect/<provider>/start          uses the link up, redirects to the provider (PKCE S256)
 *   GET    /connect/<provider>/callback       the provider's redirect: state + browser cookie checked, token stored
 *   DELETE /connect/<provider>                with the user's bearer token: forget the credential
 *   GET    /connect/_signin/callback          the sign-in IdP's redirect (browser sign-in, see browser-sign-in.ts)
 *
 * With browser sign-in (required for oauth2 providers at config load), the confirmation page and its POST
 * need a browser signed in at the sign-in IdP as the link's own user; a browser signed in as anyone else
 * gets a 403 page and nothing is used up or stored.
 *
 * Refusals are pages with the status that fits (400 not valid, 403 wrong user or browser, 410 used or
 * expired); nothing secret (link, state, code, token) is logged or echoed.
 */
export class ConnectEndpoint {
  constructor(
    private readonly broker: CredentialBroker,
    private readonly identify: BearerIdentifier,
    private readonly logger: Logger,
    private readonly signIn?: BrowserSignIn,
  ) {}

  /** False when the request is not for a connect path. */
  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
    if (!path.startsWith(PREFIX)) return false;
    if (path === SIGN_IN_CALLBACK && this.signIn) {
      await this.signedInCallback(req, res);
      return true;
    }
    const [provider, action, ...rest] = path.slice(PREFIX.length).split('/').map(safeDecode);
    if (!provider || rest.length > 0 || !this.broker.provider(provider)) {
      page(res, 404, 'Not found', 'There is no such provider to connect.');
      return true;
    }
    try {
      if (action === undefined && req.method === 'DELETE') await this.disconnect(provider, req, res);
      else if (action === 'start' && req.method === 'GET') await this.confirm(provider, req, res);
      else if (action === 'start' && req.method === 'POST') await this.begin(provider, req, res);
      else if (action === 'callback' && req.method === 'GET') await this.callback(provider, req, res);
      else page(res, 405, 'Not allowed', 'This address does not answer that method.');
    } catch (error) {
      if (!(error instanceof ConnectRefused)) throw error;
      this.logger.info('connect step refused', { provider, step: action ?? 'disconnect', status: error.status, reason: error.message });
      page(res, error.status, 'Cannot connect', error.message);
    }
    return true;
  }

  private async confirm(provider: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const secret = new URL(req.url ?? '/', 'http://x').searchParams.get('link') ?? '';
    const owner = await this.broker.inspectLink(provider, secret);
    await this.refuseOtherUser(provider, owner, req, res);
    if (res.headersSent) return;
    if (!(await this.browserIsOwner(owner, req, res, `${cookiePath(provider)}start?link=${encodeURIComponent(secret)}`))) return;
    const client = this.broker.oauthClient(provider)!;
    page(
      res,
      200,
      `Connect ${provider}`,
      `The assistant asks to use your ${provider} account on behalf of <b>${escape(owner.subject)}</b> (signed in at ${escape(owner.issuer)}). ` +
        'Continue only if that is you and you asked for it.',
      `<form method="post"><input type="hidden" name="link" value="${escape(secret)}"><button>Continue to ${escape(provider)}</button></form>`,
      client.authorizationOrigin,
    );
  }

  private async begin(provider: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only the confirmation page itself may submit: another site's auto-submitted form (with a link of the
    // attacker's) would otherwise connect the visitor's provider account to the attacker's identity, silently
    // where the provider skips its consent screen for an app already authorized.
    if (!sameOrigin(req, this.broker.settings.publicUrl)) throw new ConnectRefused(403, 'this form can only be sent from the connect page itself');
    const form = new URLSearchParams(await readForm(req));
    const secret = form.get('link') ?? '';
    const owner = await this.broker.inspectLink(provider, secret);
    await this.refuseOtherUser(provider, owner, req, res);
    if (res.headersSent) return;
    if (!(await this.browserIsOwner(owner, req, res, undefined))) return;
    const base = publicBaseUrl(req, undefined);
    const { authorizationUrl, binding } = await this.broker.begin(provider, secret, base);
    const secure = (this.broker.settings.publicUrl ?? base).startsWith('https:') ? '; Secure' : '';
    res.writeHead(303, {
      'location': authorizationUrl,
      'set-cookie': `${cookieName(provider)}=${binding}; Path=${cookiePath(provider)}; Max-Age=600; HttpOnly; SameSite=Lax${secure}`,
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    });
    res.end();
  }

  private async callback(provider: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const params = new URL(req.url ?? '/', 'http://x').searchParams;
    const state = params.get('state') ?? '';
    const error = params.get('error');
    if (error) {
      // The user said no at the provider (or it failed): the step is used up, the link must be asked for again.
      await this.broker.finish(provider, state, '', undefined).catch(() => undefined);
      throw new ConnectRefused(400, `${provider} did not grant access (${error.slice(0, 64)}); ask the assistant again for a new link`);
    }
    const code = params.get('code') ?? '';
    if (code === '') throw new ConnectRefused(400, 'the provider sent no authorization code');
    await this.broker.finish(provider, state, code, cookieOf(req, cookieName(provider)));
    res.setHeader('set-cookie', `${cookieName(provider)}=; Path=${cookiePath(provider)}; Max-Age=0; HttpOnly; SameSite=Lax`);
    page(res, 200, `${provider} connected`, `Your ${escape(provider)} account is connected. You can close this window and go back to the assistant.`);
  }

  private async disconnect(provider: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const user = await this.identify(provider, req, res);
    if (!user) return;
    const removed = await this.broker.disconnect(user, provider);
    res.writeHead(removed ? 204 : 404, { 'cache-control': 'no-store' });
    res.end();
  }

  /**
   * With browser sign-in: true when this browser signed in (sealed session cookie) as the link's owner. A
   * browser not signed in is sent to the sign-in IdP (and comes back to `returnTo`; a POST has none and is
   * refused); one signed in as someone else is refused.
   */
  private async browserIsOwner(owner: UserRef, req: IncomingMessage, res: ServerResponse, returnTo: string | undefined): Promise<boolean> {
    if (!this.signIn) return true;
    const browser = this.signIn.current(req.headers.cookie, owner.issuer);
    if (browser && browser.subject === owner.subject) return true;
    if (browser) {
      this.logger.warn('connect link opened by another signed-in user; refused', { owner: owner.subject, browser: browser.subject });
      throw new ConnectRefused(403, `this connect link belongs to another user: you are signed in as ${browser.subject}, `
        + `it was made for ${owner.subject}`);
    }
    if (returnTo === undefined) throw new ConnectRefused(403, 'sign in first: open the connect link again');
    const base = this.broker.settings.publicUrl ?? publicBaseUrl(req, undefined);
    const step = await this.signIn.start(owner.issuer, returnTo, base, isSecure(base));
    res.writeHead(303, { 'location': step.location, 'set-cookie': step.cookies, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
    res.end();
    return false;
  }

  private async signedInCallback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') {
      page(res, 405, 'Not allowed', 'This address does not answer that method.');
      return;
    }
    try {
      const base = this.broker.settings.publicUrl ?? publicBaseUrl(req, undefined);
      const step = await this.signIn!.finish(new URL(req.url ?? '/', 'http://x').searchParams, req.headers.cookie, isSecure(base));
      res.writeHead(303, { 'location': step.location, 'set-cookie': step.cookies, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
      res.end();
    } catch (error) {
      if (!(error instanceof ConnectRefused)) throw error;
      this.logger.info('connect step refused', { step: 'signin', status: error.status, reason: error.message });
      page(res, error.status, 'Cannot sign in', error.message);
    }
  }

  /**
   * A request that carries a bearer token must be the link's owner's. A browser carries none: then the
   * confirmation page names the account, and the link is single-use and short-lived (see DESIGN.md).
   */
  private async refuseOtherUser(provider: string, owner: UserRef, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!/^bearer /i.test(req.headers.authorization ?? '')) return;
    const caller = await this.identify(provider, req, res);
    if (!caller) return;
    if (caller.issuer !== owner.issuer || caller.subject !== owner.subject) {
      throw new ConnectRefused(403, 'this connect link belongs to another user');
    }
  }
}

/** Cookies are Secure except on loopback, where browsers keep them without https. */
function isSecure(base: string): boolean {
  const host = new URL(base).hostname;
  return !(host === 'localhost' || host === '[::1]' || /^127\./.test(host));
}

function cookieName(provider: string): string {
  return `mcp-connect-${provider}`;
}

/** A browser's form POST carries Origin; it must be the gateway's own (the public URL, or the Host it was sent to). */
function sameOrigin(req: IncomingMessage, publicUrl: string | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (publicUrl !== undefined && origin === new URL(publicUrl).origin) return true;
  try {
    return new URL(origin).host === req.headers.host || origin === new URL(publicBaseUrl(req, undefined)).origin;
  } catch {
    return false;
  }
}

/** The cookie goes back only to this provider's connect paths. */
function cookiePath(provider: string): string {
  return `/connect/${encodeURIComponent(provider)}/`;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return '';
  }
}

async function readForm(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new ConnectRefused(413, 'the form is too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A small self-contained page: no scripts, not framable. The URL may hold a link or a code, so no referrer
 * leaves the gateway's origin; same-origin (not no-referrer) so the form's POST carries a real Origin, which
 * `begin` checks (with no-referrer, Chromium sends `Origin: null`).
 */
function page(res: ServerResponse, status: number, title: string, html: string, form = '', formTarget?: string): void {
  const formAction = formTarget ? `'self' ${formTarget}` : "'self'";
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title>` +
      '<style>body{font-family:sans-serif;max-width:36em;margin:3em auto;line-height:1.5}</style></head>' +
      `<body><h1>${escape(title)}</h1><p>${status === 200 ? html : escape(html)}</p>${form}</body></html>`,
  );
}
