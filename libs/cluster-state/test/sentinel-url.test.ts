import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sentinelOptions } from '../src/sentinel-url.js';

test('redis:// and rediss:// URLs are left to ioredis', () => {
  for (const url of ['redis://127.0.0.1:6379', 'rediss://:pw@redis.example:6380/2', 'redis://localhost']) assert.equal(sentinelOptions(url), undefined, url);
});

test('a sentinel URL names the sentinels, the master and the primary’s credentials and db', () => {
  assert.deepEqual(sentinelOptions('redis+sentinel://s1,s2:26380,[::1]:26381/mymaster'), {
    sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }, { host: '::1', port: 26381 }],
    name: 'mymaster',
  });
  assert.deepEqual(sentinelOptions('redis+sentinel://app:p%40ss%2Fword@10.0.0.1:26379/my%20master/3?sentinel_password=s3cret&sentinel_username=watcher'), {
    sentinels: [{ host: '10.0.0.1', port: 26379 }],
    name: 'my master',
    username: 'app',
    password: 'p@ss/word',
    db: 3,
    sentinelUsername: 'watcher',
    sentinelPassword: 's3cret',
  });
  assert.deepEqual(sentinelOptions('REDIS+SENTINEL://:pw@s1/m/'), { sentinels: [{ host: 's1', port: 26379 }], name: 'm', password: 'pw' });
});

test('rediss+sentinel:// speaks TLS to the sentinels and to the primary', () => {
  assert.deepEqual(sentinelOptions('rediss+sentinel://s1:26379/m'), {
    sentinels: [{ host: 's1', port: 26379 }],
    name: 'm',
    tls: {},
    sentinelTLS: {},
    enableTLSForSentinelMode: true,
  });
});

test('malformed sentinel URLs are refused with the form, and without the password', () => {
  const refused = (url: string, fragment: RegExp) =>
    assert.throws(() => sentinelOptions(url), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, fragment);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    }, url);
  refused('redis+sentinel://:hunter2@s1:26379', /does not have the form redis\+sentinel:\/\/.*\/<master name>/); // no master name
  refused('redis+sentinel://:hunter2@s1:26379/m/x', /does not have the form/); // db is not a number
  refused('redis+sentinel://:hunter2@s1:99999/m', /'s1:99999' is not host\[:port\]/);
  refused('redis+sentinel://:hunter2@s1,,s2/m', /'' is not host\[:port\]/);
  refused('redis+sentinel://s1/m?sentinel_password=hunter2&tls=1', /unknown parameter 'tls'/);
});
