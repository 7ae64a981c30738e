/** What a caller may do with a model. `administer` includes the other two. */
export type Permission = 'predict' | 'read_metadata' | 'administer';

export const PERMISSIONS: readonly Permission[] = ['predict', 'read_metadata', 'administer'];

/** Every model, in grants and in requirements of calls that concern the whole cluster. */
export const ALL_MODELS = '*';

/** Permissions per model name (or ALL_MODELS), as written in the auth config and in JWT role claims. */
export type Grants = ReadonlyMap<string, ReadonlySet<Permission>>;

/** Thrown for grants that are not `{ "<model or *>": ["predict" | "read_metadata" | "administer", ...] }`. */
export class GrantsError extends Error {
  override name = 'GrantsError';
}

export function parseGrants(value: unknown, where: string): Grants {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GrantsError(`${where}: expected an object of model name (or "*") to a list of ${PERMISSIONS.join(', ')}`);
  }
  const grants = new Map<string, Set<Permission>>();
  for (const [model, list] of Object.entries(value)) {
    if (!Array.isArray(list)) throw new GrantsError(`${where}.${model}: expected a list of permissions`);
    const permissions = new Set<Permission>();
    for (const item of list) {
      if (!PERMISSIONS.includes(item as Permission)) {
        throw new GrantsError(`${where}.${model}: unknown permission ${JSON.stringify(item)}; expected one of ${PERMISSIONS.join(', ')}`);
      }
      permissions.add(item as Permission);
    }
    grants.set(model, permissions);
  }
  return grants;
}

function holds(permissions: ReadonlySet<Permission> | undefined, wanted: Permission): boolean {
  return permissions !== undefined && (permissions.has(wanted) || permissions.has('administer'));
}

/** Whether the grants allow `permission` on `model`; ALL_MODELS asks for it on every model. */
export function allows(grants: Grants, permission: Permission, model: string): boolean {
  if (holds(grants.get(ALL_MODELS), permission)) return true;
  return model !== ALL_MODELS && holds(grants.get(model), permission);
}

/** Every permission on every model: callers when auth is off, and the cluster's own roles. */
export const FULL_GRANTS: Grants = new Map([[ALL_MODELS, new Set<Permission>(['administer'])]]);
