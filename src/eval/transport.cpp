#include "transport.h"

#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <algorithm>

#include "msinet/util/error.h"

namespace msinet::eval::detail {

// ref: FastEMD emd_hat_impl.hpp (emd_hat_impl_integral_types: the threshold node)
int64_t min_cost_transport(const std::vector<int64_t>& supply, const std::vector<int64_t>& demand,
                           const std::vector<int64_t>& cost) {
  if (cost.size() != supply.size() * demand.size()) {
    throw Error(ErrorCode::kInternal, "min_cost_transport: cost is not supply x demand");
  }
  using Graph = lemon::SmartDigraph;
  Graph graph;
  Graph::NodeMap<int64_t> balance(graph);
  std::vector<Graph::Node> sources;
  std::vector<Graph::Node> sinks;
  int64_t excess = 0;
  for (int64_t v : supply) {
    sources.push_back(graph.addNode());
    balance[sources.back()] = v;
    excess += v;
  }
  for (int64_t v : demand) {
    sinks.push_back(graph.addNode());
    balance[sinks.back()] = -v;
    excess -= v;
  }
  graph.reserveArc(static_cast<int>(cost.size() + std::max(sources.size(), sinks.size())));
  Graph::ArcMap<int64_t> arc_cost(graph);
  size_t k = 0;
  for (const Graph::Node& a : sources) {
    for (const Graph::Node& b : sinks) arc_cost[graph.addArc(a, b)] = cost[k++];
  }
  if (excess != 0) {  // a free outlet for the excess, or a free inlet for the shortfall
    const Graph::Node spare = graph.addNode();
    balance[spare] = -excess;
    for (const Graph::Node& n : excess > 0 ? sources : sinks) {
      arc_cost[excess > 0 ? graph.addArc(n, spare) : graph.addArc(spare, n)] = 0;
    }
  }
  using Simplex = lemon::NetworkSimplex<Graph, int64_t, int64_t>;
  Simplex simplex(graph);
  simplex.costMap(arc_cost).supplyMap(balance);
  if (simplex.run() != Simplex::OPTIMAL) {
    throw Error(ErrorCode::kInternal, "min_cost_transport: the network simplex found no optimum");
  }
  return simplex.totalCost();
}

}  // namespace msinet::eval::detail
