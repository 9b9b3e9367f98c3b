// A command whose work can no longer finish (its event loop ran dry) exits 70 with a message, never 0 in silence.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EXIT_UNFINISHED } from '../../../registry/src/commands/command.js';

const commandModule = fileURLToPath(new URL('../../../registry/src/commands/command.js', import.meta.url));

/** Runs `body` in a fresh node with refuseSilentExit imported; its exit code and stderr. */
function runWith(body: string): Promise<{ code: number | null; stderr: string }> {
  const script = `import { refuseSilentExit } from ${JSON.stringify(commandModule)};\n${body}`;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, _stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stderr });
    });
  });
}

describe('registry commands: refuseSilentExit', () => {
  it('a command left waiting on a promise nothing will settle exits 70 and says so', async () => {
    const run = await runWith(`refuseSilentExit(new Promise(() => {}), 'garbage-collect');`);
    expect(run.code).to.equal(EXIT_UNFINISHED);
    expect(run.stderr).to.contain('registry: garbage-collect stopped before it finished, with nothing left to wait for');
  });

  it('a command that finished exits with its own code', async () => {
    const run = await runWith(`const work = new Promise((resolve) => setTimeout(resolve, 20)); refuseSilentExit(work, 'list'); await work; process.exitCode = 3;`);
    expect(run).to.deep.equal({ code: 3, stderr: '' });
  });

  it('an explicit exit while the work is pending (serve after its drain) keeps its code', async () => {
    const run = await runWith(`refuseSilentExit(new Promise(() => {}), 'serve'); setTimeout(() => process.exit(0), 20);`);
    expect(run).to.deep.equal({ code: 0, stderr: '' });
  });
});
