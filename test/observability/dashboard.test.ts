import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { MAAS_BIN } from '@maas/cli';
import { makeTempDir } from '@maas/test-support';
import { BatchTestCluster } from '../batch/batch-harness.js';

/** More than 10 points on the adder throughput line, some above the baseline (the chart is 180 high, baseline at 152). */
const THROUGHPUT_DRAWN = `(() => {
  const line = document.querySelector('#chart-throughput polyline.series[data-model="adder"]');
  const ys = (line?.getAttribute('points') ?? '').split(' ').filter(Boolean).map((p) => Number(p.split(',')[1]));
  return ys.length > 10 && ys.some((y) => y < 140);
})()`;

/**
 * Counts pixels of a PNG (base64) whose colour is far from grey (background, axes and labels are
 * white or grey), in its top 75 %: above the baseline, where a series is drawn only for non-zero values.
 */
const COUNT_SATURATED = `(async (base64) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + base64;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, image.width, image.height).data;
  let count = 0;
  for (let i = 0; i < image.width * Math.floor(image.height * 0.75) * 4; i += 4) {
    if (Math.max(data[i], data[i + 1], data[i + 2]) - Math.min(data[i], data[i + 1], data[i + 2]) > 80) count++;
  }
  return count;
})`;

/** Debian's chromium (.ci/run installs it); MAAS_CHROMIUM points elsewhere. */
const CHROMIUM = process.env.MAAS_CHROMIUM ?? '/usr/bin/chromium';

describe('the dashboard and maas status on a live cluster', () => {
  const cluster = new BatchTestCluster();
  let jobId = '';
  let browser: Browser;
  let loading = true;
  let load: Promise<void>;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `headless Chromium is needed at ${CHROMIUM} (apt-get install chromium, or set MAAS_CHROMIUM)`);
    await cluster.start(2, 'adder', cluster.writeAdder('adder', [1]));
    await cluster.waitFor('adder to answer', async () => (await cluster.predict('adder', 1))[0] === '1');
    // Steady traffic while the page is open, so the charts have something to draw.
    load = (async () => {
      for (let i = 0; loading && i < 100_000; i++) await cluster.predict('adder', i).catch(() => undefined);
    })();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    // A batch job with one row the model rejects: 19 of 20 rows done, 1 failed.
    const rows = Array.from({ length: 20 }, (_, i) => JSON.stringify([i]));
    rows[5] = '"not a list"';
    const submitted = await cluster.submit({ modelSpec: { name: 'adder', signatureName: '' }, inputPath: cluster.writeInput(rows), outputPath: cluster.outputPath(), rowsPerChunk: 10, maxFailedRows: 5n });
    jobId = submitted.id;
    await cluster.waitForJob(jobId);
  });
  after(async () => {
    loading = false;
    await load;
    await browser?.close();
    await cluster.stop();
  });

  test('in headless Chromium: workers, models with replicas, queues, batch jobs with progress, and live charts drawn with data', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`http://127.0.0.1:${cluster.scheduler.restPort}/dashboard`);
    // Live: the throughput line gets points above the baseline as requests flow.
    // (Browser-side checks are strings: this project type-checks without the DOM library.)
    await page.waitForFunction(THROUGHPUT_DRAWN, undefined, { timeout: 30_000 });
    await page.waitForFunction("document.querySelectorAll('#chart-latency polyline.series').length === 1", undefined, { timeout: 10_000 });
    await page.waitForFunction("document.querySelector('#models tbody tr td:nth-child(3)')?.textContent === '1 / 1'", undefined, { timeout: 10_000 });

    const workers = await page.$$eval('#workers tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(workers.length, 2);
    for (const row of workers) {
      assert.equal(row[2], 'cpu', 'device');
      assert.ok(Number(row[3]) >= 1, 'cores');
      assert.match(String(row[4]), /[MG]iB$/);
      assert.ok(Number(row[5]) >= 0, 'load');
      assert.equal(row[7], 'serving');
    }
    const model = await page.$eval('#models tbody tr', (r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    assert.deepEqual(model.slice(0, 3), ['adder', '1', '1 / 1']);
    assert.ok(Number(model[3]) > 0, `throughput shown: ${model[3]}`);
    assert.ok(Number(model[5]) > 0, `p95 latency shown: ${model[5]}`);
    assert.equal(await page.$$eval('#queues tbody tr', (rows) => rows.length), 2);
    // The batch job with its progress: rows with a result / total, failed rows, and a bar split into done and failed.
    const job = await page.$eval('#batch-jobs tbody tr', (r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    assert.deepEqual(job.slice(0, 5), [jobId, 'adder', 'COMPLETED', '20 / 20', '1']);
    const bar = await page.$$eval('#batch-jobs tbody tr .bar > span', (spans) => spans.map((s) => (s as unknown as { style: { width: string } }).style.width));
    assert.deepEqual(bar, ['95%', '5%']);

    // The screenshot shows the charts drawn: count the saturated (series-coloured) pixels of each chart's PNG.
    const dir = makeTempDir('maas-dashboard-');
    writeFileSync(join(dir, 'dashboard.png'), await page.screenshot({ fullPage: true }));
    const coloured: number[] = [];
    for (const id of ['#chart-throughput', '#chart-latency']) {
      const png = await page.locator(id).screenshot();
      coloured.push(await countSaturatedPixels(browser, png));
    }
    assert.ok(coloured.every((n) => n > 100), `series pixels above the baseline in the chart screenshots: ${coloured.join(', ')} (page in ${dir})`);
    await page.close();
  });

  test('maas status: the same at a glance in the terminal', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      MAAS_BIN,
      'status',
      `--registry=127.0.0.1:${cluster.registry.grpcPort}`,
      `--scheduler=http://127.0.0.1:${cluster.scheduler.restPort}`,
    ]);
    assert.match(stdout, /^WORKERS \(2\)$/m);
    for (const worker of cluster.workers) assert.match(stdout, new RegExp(`^${worker.id!.slice(0, 8)}\\s+127\\.0\\.0\\.1:\\d+\\s+cpu\\s+\\d+`, 'm'));
    assert.match(stdout, /^adder\s+1\s+1\/1\s+1\.\.1\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d/m);
    assert.match(stdout, new RegExp(`^BATCH JOBS\\nID +MODEL +STATE +DONE/TOTAL +FAILED +PROGRESS\\n${jobId} +adder +COMPLETED +20/20 +1 +100%$`, 'm'));
  });
});

/** Decodes the PNG in a blank page of the same browser and counts its series-coloured pixels. */
async function countSaturatedPixels(browser: Browser, png: Buffer): Promise<number> {
  const page = await browser.newPage();
  try {
    return (await page.evaluate(`${COUNT_SATURATED}(${JSON.stringify(png.toString('base64'))})`)) as number;
  } finally {
    await page.close();
  }
}
