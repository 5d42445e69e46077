// How an epoch's order is dealt to ranks and micro-batches, against hand-worked cases.
#include <gtest/gtest.h>

#include "msinet/train/shards.h"

namespace msinet::train {
namespace {

using Micro = std::vector<std::vector<size_t>>;

TEST(TrainShards, OneRankTakesWholeBatches) {
  const StepPlan p = plan_step(/*epoch_size=*/5, /*position=*/2, /*batch_size=*/2,
                               /*world_size=*/1, /*rank=*/0, /*accumulate=*/1);
  EXPECT_EQ(p.begin, 2u);
  EXPECT_EQ(p.end, 4u);
  EXPECT_EQ(p.micro_batches, (Micro{{2, 3}}));
}

TEST(TrainShards, RanksShareAStepBatchByBatch) {
  // 2 ranks x batch 2: the step covers positions 0..3; rank 0 takes 0,1 and rank 1 takes 2,3.
  EXPECT_EQ(plan_step(10, 0, 2, 2, 0, 1).micro_batches, (Micro{{0, 1}}));
  EXPECT_EQ(plan_step(10, 0, 2, 2, 1, 1).micro_batches, (Micro{{2, 3}}));
  EXPECT_EQ(plan_step(10, 4, 2, 2, 1, 1).end, 8u);
}

TEST(TrainShards, AccumulationInterleavesRanksWithinTheStep) {
  // 2 ranks x batch 1 x 2 micro-batches: positions 6..9; micro k of rank r is 6 + 2k + r.
  const StepPlan r0 = plan_step(10, 6, 1, 2, 0, 2);
  const StepPlan r1 = plan_step(10, 6, 1, 2, 1, 2);
  EXPECT_EQ(r0.end, 10u);
  EXPECT_EQ(r0.micro_batches, (Micro{{6}, {8}}));
  EXPECT_EQ(r1.micro_batches, (Micro{{7}, {9}}));
}

TEST(TrainShards, TheLastStepOfAnEpochIsShortAndSomeRanksGetNothing) {
  // 7 images, 2 ranks x batch 2: the second step is positions 4..6, rank 1 gets only 6.
  EXPECT_EQ(plan_step(7, 4, 2, 2, 0, 1).micro_batches, (Micro{{4, 5}}));
  EXPECT_EQ(plan_step(7, 4, 2, 2, 1, 1).micro_batches, (Micro{{6}}));
  // 5 images, 4 ranks x batch 1 from position 4: ranks 1..3 have an empty micro-batch.
  EXPECT_EQ(plan_step(5, 4, 1, 4, 0, 1).micro_batches, (Micro{{4}}));
  EXPECT_EQ(plan_step(5, 4, 1, 4, 3, 1).micro_batches, (Micro{{}}));
  EXPECT_EQ(plan_step(5, 4, 1, 4, 3, 1).end, 5u);
}

TEST(TrainShards, EveryPositionIsTrainedOnceWhateverTheSplit) {
  for (int world : {1, 2, 3}) {
    for (int batch : {1, 2, 3}) {
      for (int acc : {1, 2}) {
        std::vector<int> seen(11, 0);
        for (size_t p = 0; p < 11;) {
          size_t end = 0;
          for (int r = 0; r < world; ++r) {
            const StepPlan plan = plan_step(11, p, batch, world, r, acc);
            end = plan.end;
            for (const auto& m : plan.micro_batches) {
              for (size_t q : m) ++seen[q];
            }
          }
          p = end;
        }
        EXPECT_EQ(seen, std::vector<int>(11, 1)) << world << " ranks, batch " << batch;
      }
    }
  }
}

}  // namespace
}  // namespace msinet::train
