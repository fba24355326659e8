/** MessagingAdminModule's options that may come from DI (watch), after validation. */
export const ADMIN_RUNTIME_OPTIONS = Symbol('MESSAGING_ADMIN_RUNTIME_OPTIONS');
