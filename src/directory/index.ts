export * from './model.js';
export { parseDirectoryYaml, serializeDirectoryYaml } from './yaml.js';
export { validateDirectory, DirectoryValidationError, formatIssue, type DirectoryIssue } from './validate.js';
export { diffDirectories, formatChange, type DirectoryChange, type FieldChange, type ChangeAction, type ChangeEntity } from './changes.js';
export { applyEdit, DirectoryEditError, type DirectoryEdit } from './edits.js';
export type { TenantInput, AcceptedDomainInput, ConnectorInput, DirectoryInput } from './schema.js';
export { canonicalCidr } from '../core/ip-prefix.js';
export { demoDirectory } from './demo.js';
