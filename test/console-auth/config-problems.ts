import { expect } from 'chai';
import { ConfigError, parseConsoleConfig } from '../../console-auth/src/config.js';

/** The problems console.yml text is refused with; fails the test if it is accepted. */
export function problems(text: string): string[] {
  try {
    parseConsoleConfig(text, '/etc/console/console.yml');
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('the config was accepted');
}
