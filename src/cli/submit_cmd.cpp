// `msinet submit`: a benchmark submission package from saved maps, checked against the stimuli.
#include <iostream>

#include "msinet/cli/common.h"
#include "msinet/submit/submit.h"

namespace msinet::cli {

Command register_submit(CLI::App& root) {
  CLI::App* app = root.add_subcommand(
      "submit", "check maps against a benchmark's stimuli and package them as it asks");
  auto state = add_common_options(*app);
  struct Args {
    std::string benchmark, maps, stimuli, output, name;
    uint64_t max_mb = submit::kDefaultMaxPackageMb;
  };
  auto args = std::make_shared<Args>();
  app->add_option("benchmark", args->benchmark,
                  "mit300 or cat2000 (grayscale JPEG saliency maps), or tuebingen (.npy "
                  "log-densities)")
      ->type_name("mit300|cat2000|tuebingen")
      ->required()
      ->check(CLI::IsMember({"mit300", "cat2000", "tuebingen"}));
  app->add_option("-p,--maps", args->maps, "folder of maps, named as the stimuli")
      ->type_name("DIR")
      ->required();
  app->add_option("--stimuli", args->stimuli, "folder of the benchmark's test images")
      ->type_name("DIR")
      ->required();
  app->add_option("-o,--output", args->output, "the .zip to write")->type_name("FILE")->required();
  app->add_option("--name", args->name,
                  "folder inside the mit300/cat2000 package (the model's name) [default: the "
                  "output's stem]")
      ->type_name("NAME");
  app->add_option("--max-mb", args->max_mb, "largest package accepted, in MiB (summed maps)")
      ->type_name("MIB")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 30))
      ->capture_default_str();
  Command cmd{app, state, nullptr};
  cmd.run = [args](const config::Config&) {
    submit::SubmitOptions o;
    o.benchmark = submit::parse_benchmark(args->benchmark);
    o.maps_dir = args->maps;
    o.stimuli_dir = args->stimuli;
    o.output = args->output;
    o.name = args->name;
    o.max_bytes = args->max_mb << 20;
    const submit::SubmitResult r = submit::run_submit(o);
    std::cout << "submit " << submit::benchmark_name(o.benchmark) << ": packaged " << r.maps
              << " maps as " << r.layout << " in " << o.output.string() << " (" << r.archive_bytes
              << " bytes; maps " << r.content_bytes << " bytes)\n";
    if (r.converted > 0) {
      std::cout << "converted " << r.converted << " of " << r.maps << ": " << r.conversion << "\n";
    }
    return 0;
  };
  return cmd;
}

}  // namespace msinet::cli
