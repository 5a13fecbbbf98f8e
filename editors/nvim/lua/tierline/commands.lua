--- User commands.
local M = {}

function M.create()
  local cmd = vim.api.nvim_create_user_command
  cmd("TierlineEscalate", function()
    require("tierline").escalate()
  end, { desc = "tierline: send the next completion request to the premium tier" })
  cmd("TierlineStats", function()
    require("tierline").show_stats()
  end, { desc = "tierline: requests, spend and savings (floating window)" })
  cmd("TierlineExplain", function()
    require("tierline").explain()
  end, { desc = "tierline: features, score and tier at the cursor" })
  cmd("TierlineClearCache", function()
    require("tierline").clear_cache()
  end, { desc = "tierline: drop cached answers" })
  cmd("TierlineSnooze", function(opts)
    local snooze = require("tierline.snooze")
    local minutes, problem = snooze.parse(opts.args)
    if not minutes then
      vim.notify(problem, vim.log.levels.ERROR)
      return
    end
    snooze.snooze(minutes)
  end, { nargs = "?", desc = "tierline: no automatic suggestions for [minutes] (default 5; 0 resumes)" })
  cmd("TierlineToggle", function()
    require("tierline").set_auto_trigger()
  end, { desc = "tierline: automatic suggestions on/off" })
  cmd("TierlineTrust", function(opts)
    require("tierline.trust").trust(opts.args)
  end, { nargs = "?", complete = "dir", desc = "tierline: trust this workspace's .tierline.toml (models, dirs)" })
end

return M
