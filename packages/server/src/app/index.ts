/** @module app: starts the roles of one inlet process (collector, loader, web, scheduler) over one data directory. */
export { ROLES, type Role, type RunningInlet, type RunningRoles } from './roles.ts';
export { startInlet, startRoles } from './start-roles.ts';
