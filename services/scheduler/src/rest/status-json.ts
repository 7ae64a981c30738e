import { codeToJSON, modelVersionStatus_StateToJSON, type GetModelStatusResponse } from '@maas/protos';

/** Proto3 JSON names an enum value it knows, else prints the number. */
export function enumJson(value: number, toName: (value: number) => string): string | number {
  const name = toName(value);
  return name === 'UNRECOGNIZED' ? value : name;
}

/**
 * GET /v1/models/{name}: proto3 JSON of GetModelStatusResponse as TF prints it (shared/spec §7.6):
 * original field names, defaults included, int64 as strings, enums by name, one-space indent.
 */
export function modelStatusJson(response: GetModelStatusResponse): string {
  const statuses = response.modelVersionStatus.map((s) => ({
    version: String(s.version),
    state: enumJson(s.state, modelVersionStatus_StateToJSON),
    ...(s.status && { status: { error_code: enumJson(s.status.errorCode, codeToJSON), error_message: s.status.errorMessage } }),
  }));
  return JSON.stringify({ model_version_status: statuses }, null, 1);
}
