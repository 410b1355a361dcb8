import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminalLog } from '../../local/endpoint/terminal-log';

describe("the local mesh's own lines on stderr", () => {
  const logged = (line: string) => {
    const out: string[] = [];
    terminalLog('mesh', (t) => out.push(t))(line);
    return out.join('');
  };

  it('are prefixed, one per call', () => {
    assert.equal(logged('payments deployed (version 2)'), '[mesh] payments deployed (version 2)\n');
  });

  it('show what a hook or a function wrote as visible text: no escape, clipboard write or overwrite reaches the terminal', () => {
    const hostile = 'hook failed: \u001b]52;c;ZWNobyBwd25lZA==\u0007 \u001b[2J\rpayments \u202egnp.exe';
    const text = logged(hostile);
    assert.equal(
      text,
      '[mesh] hook failed: \\u001b]52;c;ZWNobyBwd25lZA==\\u0007 \\u001b[2J\\u000dpayments \\u202egnp.exe\n',
    );
  });

  it("keep a message's own line breaks", () => {
    assert.equal(logged('two lines\nsecond'), '[mesh] two lines\nsecond\n');
  });
});
