// The doc harness itself: a harness that passed a broken doc, or pointed at the wrong line, would hide drift.
import { expect } from 'chai';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { failureOf } from '../helpers/failure.js';
import { isRunning } from '../bootstrap/harness.js';
import { makeTempDir } from '../helpers/spawn.js';
import { DocFailure, docHarnessPerSuite, runnableBlocks } from './session.js';

function doc(markdown: string): ReturnType<typeof runnableBlocks> {
  return runnableBlocks({ path: 'docs/example.md', text: markdown });
}

describe('docs: the runnable-block harness', function () {
  const harness = docHarnessPerSuite();

  it('takes only blocks opened with ```sh runnable, with the line their code starts on', function () {
    const found = doc(['# t', '```sh', 'echo shown', '```', '', '```sh runnable', 'echo one', '```', '```yaml', 'a: 1', '```', '  ```sh runnable exit=2', '  false', '  ```'].join('\n'));
    expect(found.blocks).to.deep.equal([
      { line: 7, code: 'echo one', exit: 0 },
      { line: 13, code: 'false', exit: 2 },
    ]);
  });

  it('refuses a runnable block in another language or with an unknown attribute', function () {
    expect(() => doc('```yaml runnable\na: 1\n```')).to.throw('docs/example.md:1: a runnable block must be ```sh');
    expect(() => doc('```sh runnable exits=1\ntrue\n```')).to.throw('unknown attribute "exits=1"');
  });

  it('runs the blocks of a doc in order in one shell: what one block sets, the next one sees', async function () {
    await harness().run(doc('```sh runnable\nanswer=42\necho "$answer" > file\n```\ntext\n```sh runnable\ntest "$answer" = 42\ngrep -qx 42 file\n```'));
  });

  it('names the doc line of the command that failed, with the session output', async function () {
    const failure = await failureOf(DocFailure, () => harness().run(doc('intro\n\n```sh runnable\necho before\ngrep -q absent /dev/null\necho after\n```')));
    expect(failure.message).to.contain('docs/example.md failed (exit 1) at docs/example.md:5 (status 1): grep -q absent /dev/null');
    expect(failure.message).to.contain('### docs/example.md:3');
    expect(failure.message).to.contain('before');
    expect(failure.message).not.to.contain('after');
  });

  it('fails a doc on an unset variable and on a failure inside a pipeline', async function () {
    await failureOf(DocFailure, () => harness().run(doc('```sh runnable\necho "$NOT_PROVIDED"\n```')));
    await failureOf(DocFailure, () => harness().run(doc('```sh runnable\nfalse | cat\n```')));
  });

  it('passes an exit=N block only when it stops with status N, and goes on after it', async function () {
    await harness().run(doc('```sh runnable exit=3\n(exit 3)\n```\n```sh runnable\ntrue\n```'));
    const failure = await failureOf(DocFailure, () => harness().run(doc('```sh runnable exit=3\ntrue\n```')));
    expect(failure.message).to.contain('the block at docs/example.md:1 ended with status 0, expected 3');
  });

  it('stops a server a block leaves running, by the session process group', async function () {
    const dir = await makeTempDir('docs-harness');
    const pidFile = join(dir, 'pid');
    await harness().run(doc(`\`\`\`sh runnable\nsleep 300 &\necho $! > ${pidFile}\n\`\`\``));
    const pid = Number(await readFile(pidFile, 'utf8'));
    await rm(dir, { recursive: true, force: true });
    expect(isRunning(pid), `sleep ${pid} still running`).to.equal(false);
  });

  it('runs etcdctl without an API at v3, as Debian does, so a bare `etcdctl set` fails', async function () {
    const failure = await failureOf(DocFailure, () => harness().run(doc('```sh runnable\netcdctl set /k v\n```')));
    expect(failure.message).to.contain('unknown command "set"');
    await harness().run(doc('```sh runnable\nETCDCTL_API=2 etcdctl set /k v\nETCDCTL_API=2 etcdctl get /k | grep -qx v\n```'));
  });

  it('provides the built programs on PATH and a registry holding team/app:v1 and v2', async function () {
    await harness().run(
      doc(['```sh runnable', 'registry --version', 'console-auth --help > /dev/null', 'bootstrap --help > /dev/null', 'registry list team/app "$CONFIG" | grep -c sha256: | grep -qx 2', 'curl -fsS "http://$REGISTRY/v2/team/app/tags/list"', '```'].join('\n')),
    );
  });
});
