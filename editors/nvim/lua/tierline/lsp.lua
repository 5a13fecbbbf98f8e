--- Client side of the LSP conversation: the client config, requests, commands, `tierline/didRoute`.
local M = {}

M.name = "tierline"
M.has_011 = vim.fn.has("nvim-0.11") == 1

-- Compatibility: 0.11 made client methods take `self` (`client:request`); 0.10 has closures.
function M.request(client, method, params, handler, bufnr)
  if M.has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.cancel(client, id)
  if M.has_011 then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

function M.notify(client, method, params)
  if M.has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- The tierline client attached to `bufnr` (or any tierline client when bufnr is nil).
---@return vim.lsp.Client?
function M.get_client(bufnr)
  local filter = { name = M.name }
  if bufnr then
    filter.bufnr = bufnr == 0 and vim.api.nvim_get_current_buf() or bufnr
  end
  local clients = vim.lsp.get_clients(filter)
  if #clients == 0 and bufnr then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end

--- `workspace/executeCommand` on the tierline server.
---@param command string e.g. "tierline.stats"
---@param arguments? any[]
---@param callback? fun(err: table?, result: any)
---@return boolean sent
function M.execute(command, arguments, callback, bufnr)
  local client = M.get_client(bufnr or vim.api.nvim_get_current_buf())
  if not client then
    local msg = "tierline: no language server attached (see :checkhealth tierline)"
    if callback then
      callback({ message = msg }, nil)
    else
      vim.notify(msg, vim.log.levels.WARN)
    end
    return false
  end
  local params = { command = command, arguments = arguments }
  M.request(client, "workspace/executeCommand", params, function(err, result)
    if callback then
      callback(err, result)
    elseif err then
      vim.notify(("tierline: %s failed: %s"):format(command, err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
  end, bufnr or vim.api.nvim_get_current_buf())
  return true
end

--- Handler of the server's `tierline/didRoute` notification.
function M.on_did_route(err, params, ctx)
  if err or type(params) ~= "table" then
    return
  end
  require("tierline.status").on_route(params, ctx and ctx.client_id)
  pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "TierlineDidRoute", data = params, modeline = false })
end

--- Handler of `window/showMessage`: a storage fault warns in the statusline; then shown as usual.
function M.on_show_message(err, result, ctx, config)
  pcall(require("tierline.status").on_message, result, ctx and ctx.client_id)
  return vim.lsp.handlers["window/showMessage"](err, result, ctx, config)
end

--- The config `vim.lsp.config` / `vim.lsp.start` use, built from the current options.
---@return vim.lsp.ClientConfig
function M.client_config()
  local o = require("tierline.config").options
  local settings = vim.deepcopy(o.settings or {})
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument = capabilities.textDocument or {}
  capabilities.textDocument.inlineCompletion = capabilities.textDocument.inlineCompletion
    or { dynamicRegistration = false }
  capabilities.general = capabilities.general or {}
  capabilities.general.positionEncodings = capabilities.general.positionEncodings or { "utf-8", "utf-16" }
  local markers = o.root_markers
  return {
    name = M.name,
    cmd = o.cmd,
    cmd_env = o.cmd_env,
    filetypes = o.filetypes ~= "*" and o.filetypes or nil,
    root_markers = markers,
    root_dir = function(bufnr, on_dir)
      local root = vim.fs.root(bufnr, markers)
      on_dir(root or vim.fn.getcwd())
    end,
    -- Both: the server reads `initializationOptions` at startup and the `tierline` section of
    -- `workspace/didChangeConfiguration` (and answers to `workspace/configuration`) afterwards.
    -- An empty Lua table would be sent as a JSON array: send nothing instead.
    init_options = next(settings) and settings or nil,
    settings = next(settings) and { tierline = settings } or {},
    capabilities = capabilities,
    handlers = { ["tierline/didRoute"] = M.on_did_route, ["window/showMessage"] = M.on_show_message },
  }
end

--- Start (or reuse) the client for a buffer without `vim.lsp.enable` (Neovim 0.10).
function M.start(bufnr)
  local o = require("tierline.config").options
  if vim.bo[bufnr].buftype ~= "" then
    return
  end
  if o.filetypes ~= "*" and not vim.tbl_contains(o.filetypes, vim.bo[bufnr].filetype) then
    return
  end
  local config = M.client_config()
  config.root_dir = vim.fs.root(bufnr, config.root_markers) or vim.fn.getcwd()
  config.root_markers = nil
  return vim.lsp.start(config, { bufnr = bufnr })
end

--- Send new server settings to running clients (`workspace/didChangeConfiguration`).
function M.push_settings(settings)
  local section = next(settings) and settings or vim.empty_dict()
  for _, client in ipairs(vim.lsp.get_clients({ name = M.name })) do
    client.settings = { tierline = section }
    M.notify(client, "workspace/didChangeConfiguration", { settings = { tierline = section } })
  end
end

return M
