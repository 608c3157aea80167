/// Notices to experts and parties: the transactional outbox, its dispatcher and the channels
/// (SMTP, webhooks, WeCom, DingTalk, Maildir). Empty until the notices issue lands; the module exists
/// so the dependency direction (Notify → Core) is fixed from the start.
public enum MediationNotify {}
