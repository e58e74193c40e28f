-- Each item's JSON API form kept ready in the row; the same as ../008_item_api_json.sql (read it for why).
ALTER TABLE items ADD COLUMN api_json TEXT;

CREATE FUNCTION items_api_json() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.starts_at IS NULL OR NEW.starts_at BETWEEN -62135596800 AND 253402300799) AND (NEW.ends_at IS NULL OR NEW.ends_at BETWEEN -62135596800 AND 253402300799) AND (NEW.created_at IS NULL OR NEW.created_at BETWEEN -62135596800 AND 253402300799) AND (NEW.updated_at IS NULL OR NEW.updated_at BETWEEN -62135596800 AND 253402300799) THEN
    NEW.api_json := '{"id":' || COALESCE(to_json(NEW.id)::text, 'null') || ',"name":' || COALESCE(to_json(NEW.name)::text, 'null') || ',"data":' || COALESCE(NEW.data, 'null') || ',"status":' || COALESCE(to_json(NEW.status)::text, 'null') || ',"starts_at":' || CASE WHEN NEW.starts_at IS NULL THEN 'null' ELSE '"' || to_char(to_timestamp(NEW.starts_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' END || ',"ends_at":' || CASE WHEN NEW.ends_at IS NULL THEN 'null' ELSE '"' || to_char(to_timestamp(NEW.ends_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' END || ',"calendar_event_id":' || COALESCE(to_json(NEW.calendar_event_id)::text, 'null') || ',"calendar_sync":' || COALESCE(to_json(NEW.calendar_sync)::text, 'null') || ',"created_at":' || CASE WHEN NEW.created_at IS NULL THEN 'null' ELSE '"' || to_char(to_timestamp(NEW.created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' END || ',"updated_at":' || CASE WHEN NEW.updated_at IS NULL THEN 'null' ELSE '"' || to_char(to_timestamp(NEW.updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"' END || ',"version":' || NEW.version::text || '}';
  ELSE
    NEW.api_json := NULL;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER items_api_json BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION items_api_json();

UPDATE items SET version = version;
