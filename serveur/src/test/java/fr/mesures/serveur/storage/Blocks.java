package fr.mesures.serveur.storage;

import java.util.ArrayList;
import java.util.List;

/** Builds {@link ReadingBlock}s for the stores' tests and reads back what a commit decided for each reading. */
final class Blocks {

    private Blocks() {
    }

    /** A block received at {@code receivedAt} holding readings given as (id, temperature, timestamp) triples. */
    static ReadingBlock block(long receivedAt, Object... idTemperatureTimestamp) {
        var block = new ReadingBlock(idTemperatureTimestamp.length / 3);
        block.receivedAt(receivedAt);
        for (int i = 0; i < idTemperatureTimestamp.length; i += 3) {
            block.add((String) idTemperatureTimestamp[i], ((Number) idTemperatureTimestamp[i + 1]).doubleValue(),
                    ((Number) idTemperatureTimestamp[i + 2]).longValue());
        }
        return block;
    }

    static List<ReadingBlock.Outcome> outcomes(ReadingBlock block) {
        var outcomes = new ArrayList<ReadingBlock.Outcome>();
        for (int i = 0; i < block.size(); i++) {
            outcomes.add(block.outcome(i));
        }
        return outcomes;
    }
}
