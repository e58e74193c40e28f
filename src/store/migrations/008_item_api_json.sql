-- Each item's JSON API form kept ready in the row (issue 15): a list page is then a concatenation of
-- stored strings instead of decoding every column and encoding them again. Written by triggers, so
-- every statement that changes an item (the item repository's and the calendar queue's) keeps it in
-- step. The shape is `itemJson` in src/http/items-api.ts, byte for byte (tests/store/items.test.ts
-- compares them). Rows with a date outside years 1-9999 get NULL and the reader encodes them itself:
-- JavaScript writes years past 9999 and before 0 with six digits, and PostgreSQL has no year 0.
ALTER TABLE items ADD COLUMN api_json TEXT;

CREATE TRIGGER items_api_json_insert AFTER INSERT ON items
BEGIN
  UPDATE items SET api_json = CASE WHEN (NEW.starts_at IS NULL OR NEW.starts_at BETWEEN -62135596800 AND 253402300799) AND (NEW.ends_at IS NULL OR NEW.ends_at BETWEEN -62135596800 AND 253402300799) AND (NEW.created_at IS NULL OR NEW.created_at BETWEEN -62135596800 AND 253402300799) AND (NEW.updated_at IS NULL OR NEW.updated_at BETWEEN -62135596800 AND 253402300799) THEN
    '{"id":' || json_quote(NEW.id) || ',"name":' || json_quote(NEW.name) || ',"data":' || COALESCE(NEW.data, 'null') || ',"status":' || json_quote(NEW.status) || ',"starts_at":' || CASE WHEN NEW.starts_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, 'unixepoch') || '"' END || ',"ends_at":' || CASE WHEN NEW.ends_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.ends_at, 'unixepoch') || '"' END || ',"calendar_event_id":' || json_quote(NEW.calendar_event_id) || ',"calendar_sync":' || json_quote(NEW.calendar_sync) || ',"created_at":' || CASE WHEN NEW.created_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.created_at, 'unixepoch') || '"' END || ',"updated_at":' || CASE WHEN NEW.updated_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.updated_at, 'unixepoch') || '"' END || ',"version":' || NEW.version || '}'
  END WHERE id = NEW.id;
END;

CREATE TRIGGER items_api_json_update
AFTER UPDATE OF id, name, data, status, starts_at, ends_at, calendar_event_id, calendar_sync, created_at, updated_at, version ON items
BEGIN
  UPDATE items SET api_json = CASE WHEN (NEW.starts_at IS NULL OR NEW.starts_at BETWEEN -62135596800 AND 253402300799) AND (NEW.ends_at IS NULL OR NEW.ends_at BETWEEN -62135596800 AND 253402300799) AND (NEW.created_at IS NULL OR NEW.created_at BETWEEN -62135596800 AND 253402300799) AND (NEW.updated_at IS NULL OR NEW.updated_at BETWEEN -62135596800 AND 253402300799) THEN
    '{"id":' || json_quote(NEW.id) || ',"name":' || json_quote(NEW.name) || ',"data":' || COALESCE(NEW.data, 'null') || ',"status":' || json_quote(NEW.status) || ',"starts_at":' || CASE WHEN NEW.starts_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.starts_at, 'unixepoch') || '"' END || ',"ends_at":' || CASE WHEN NEW.ends_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.ends_at, 'unixepoch') || '"' END || ',"calendar_event_id":' || json_quote(NEW.calendar_event_id) || ',"calendar_sync":' || json_quote(NEW.calendar_sync) || ',"created_at":' || CASE WHEN NEW.created_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.created_at, 'unixepoch') || '"' END || ',"updated_at":' || CASE WHEN NEW.updated_at IS NULL THEN 'null' ELSE '"' || strftime('%Y-%m-%dT%H:%M:%fZ', NEW.updated_at, 'unixepoch') || '"' END || ',"version":' || NEW.version || '}'
  END WHERE id = NEW.id;
END;

-- Existing rows: an update of a listed column fires the trigger.
UPDATE items SET version = version;
