package fr.mesures.serveur.ingest;

import fr.mesures.protocole.Reading;
import fr.mesures.serveur.storage.ReadingBlock;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gives a reading sent without a timestamp the time it was received, moved forward by a millisecond when the same
 * sensor already has a reading at that time: the store's key is {@code (capteur_id, timestamp)}, and two
 * distinct readings received in the same millisecond must not look like one reading sent twice.
 *
 * <p>Remembers the last assigned time of the most recently seen sensors (bounded). Used by the writer thread only.
 */
final class TimestampAssigner {

    private static final int REMEMBERED_SENSORS = 100_000;

    private final Map<String, Long> lastAssigned = new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > REMEMBERED_SENSORS;
        }
    };

    void assign(ReadingBlock block) {
        for (int i = 0; i < block.size(); i++) {
            if (block.timestamp(i) == Reading.NO_TIMESTAMP) {
                String id = block.capteurId(i);
                Long last = lastAssigned.get(id);
                long time = last == null ? block.receivedAt() : Math.max(block.receivedAt(), last + 1);
                lastAssigned.put(id, time);
                block.timestamp(i, time);
            }
        }
    }
}
