import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { probeProviders, type ProviderProbe } from '@maas/onnx-runtime';

const run = promisify(execFile);

export interface GpuInfo {
  index: number;
  name: string;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
}

export interface DeviceReport {
  providers: ProviderProbe[];
  gpus: GpuInfo[];
}

const MIB = 1024 * 1024;

/** NVIDIA GPUs from the driver (nvidia-smi); none when there is no driver. */
export async function detectGpus(): Promise<GpuInfo[]> {
  try {
    const { stdout } = await run('nvidia-smi', ['--query-gpu=index,name,memory.total,memory.used', '--format=csv,noheader,nounits'], { timeout: 5000 });
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [index, name, total, used] = line.split(',').map((s) => s.trim());
        return { index: Number(index), name: name ?? '', memoryTotalBytes: Number(total) * MIB, memoryUsedBytes: Number(used) * MIB };
      });
  } catch {
    return [];
  }
}

/** GPU memory in use on all devices (driver's number), or undefined without a GPU. */
export async function gpuMemoryUsed(): Promise<number | undefined> {
  const gpus = await detectGpus();
  return gpus.length === 0 ? undefined : gpus.reduce((sum, g) => sum + g.memoryUsedBytes, 0);
}

/** What this worker can run on: usable execution providers and the GPUs behind them. */
export async function detectDevices(): Promise<DeviceReport> {
  const [providers, gpus] = await Promise.all([probeProviders(), detectGpus()]);
  return { providers, gpus };
}
