import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSse } from './event-stream.ts';

describe('server-sent event parsing', () => {
  it('returns complete messages and keeps a partial one for the next chunk', () => {
    const { messages, rest } = parseSse(
      ': connected\n\nid: 7\nevent: dhcp.offer\ndata: {"id":7}\n\nid: 8\nevent: step.st',
    );
    assert.deepEqual(messages, [{ id: '7', event: 'dhcp.offer', data: '{"id":7}' }]);
    assert.equal(rest, 'id: 8\nevent: step.st');
  });

  it('skips comments and pings and joins multi-line data', () => {
    const { messages } = parseSse(': ping\n\ndata: a\ndata: b\n\n');
    assert.deepEqual(messages, [{ data: 'a\nb' }]);
  });
});
