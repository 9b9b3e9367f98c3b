// Token request scopes, as the Docker token spec writes them: "<type>[(<class>)]:<name>:<action>[,<action>...]".
import { isValidName } from '../../registry/src/storage/reference.js';

export interface Scope {
  /** "repository", "registry", or another type the policy will grant nothing on. */
  type: string;
  name: string;
  actions: string[];
}

/** A scope parameter that does not follow the grammar; the endpoint answers 400 with its message. */
export class ScopeError extends Error {}

const TYPE = /^[a-z0-9]+(?:\([a-z0-9]+\))?$/;
const ACTION = /^(?:[a-z]+|\*)$/;

export function parseScope(text: string): Scope {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  if (first < 0 || first === last) throw new ScopeError(`scope "${text}" is not <type>:<name>:<actions>, e.g. repository:library/nginx:pull,push`);
  const type = text.slice(0, first);
  const name = text.slice(first + 1, last);
  const actions = text.slice(last + 1).split(',');
  if (!TYPE.test(type)) throw new ScopeError(`scope "${text}": "${type}" is not a resource type such as repository or registry`);
  if (type === 'repository' && !isValidName(name)) {
    throw new ScopeError(`scope "${text}": "${name}" is not a repository name (lowercase [a-z0-9] components joined by ".", "_", "__" or "-", separated by "/")`);
  }
  if (name === '') throw new ScopeError(`scope "${text}" has an empty resource name`);
  if (!actions.every((a) => ACTION.test(a))) throw new ScopeError(`scope "${text}": actions must be words such as pull, push, delete or "*"`);
  return { type, name, actions: [...new Set(actions)] };
}

/**
 * Every scope of a request: the parameter may repeat, and one value may hold several scopes separated by spaces
 * (OAuth2 form posts, and clients that copy a challenge's scope parameter verbatim).
 */
export function parseScopes(values: readonly string[]): Scope[] {
  return values.flatMap((value) => value.split(' ').filter((part) => part !== '')).map(parseScope);
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}
