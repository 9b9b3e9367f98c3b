// The token endpoint's parameters, from the GET query or the POST form, as flat strings. A name=value pair stays a
// string whatever its name looks like: a nested-form parser turned 21 repeated scopes, `scope[a]=` or `password[a]=`
// into arrays and objects the handlers never expected. A bracketed name of a field, or a field that may appear once
// given twice, is refused with a message.
import type { IncomingMessage } from 'node:http';
import { clip } from '../../registry/src/storage/reference.js';

/** A query or form the endpoint cannot read: answered with the status (400 unless too large) and the message. */
export class MalformedRequest extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 = 400,
  ) {
    super(message);
  }
}

/** The endpoint's fields, whose bracketed names ("scope[a]", "password[]") are refused rather than ignored. */
const FIELDS = ['service', 'scope', 'account', 'offline_token', 'client_id', 'grant_type', 'username', 'password', 'refresh_token', 'access_type'];

export class Params {
  private constructor(private readonly values: URLSearchParams) {}

  /** Parses a query string or a url-encoded form. */
  static parse(text: string): Params {
    const values = new URLSearchParams(text);
    for (const name of new Set(values.keys())) {
      const bracket = name.indexOf('[');
      const field = name.slice(0, bracket);
      if (bracket >= 0 && FIELDS.includes(field)) {
        throw new MalformedRequest(`field "${clip(name, 64)}" is not understood: fields are plain name=value pairs (${field}=...; repeat scope= to ask for several scopes)`);
      }
    }
    return new Params(values);
  }

  /** A field that may appear once; undefined when absent or empty. */
  single(name: string): string | undefined {
    const given = this.values.getAll(name);
    if (given.length > 1) throw new MalformedRequest(`parameter ${name} is given ${given.length} times; give it once`);
    return given[0] === '' ? undefined : given[0];
  }

  /** A field that may repeat, every value in order. */
  all(name: string): string[] {
    return this.values.getAll(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }
}

/** Reads a url-encoded body of at most `limit` bytes. */
export async function readForm(req: IncomingMessage, limit: number): Promise<Params> {
  const tooLarge = new MalformedRequest(`the form is larger than ${limit} bytes`, 413);
  if (Number(req.headers['content-length']) > limit) throw tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge;
    chunks.push(chunk);
  }
  return Params.parse(Buffer.concat(chunks).toString('utf8'));
}
